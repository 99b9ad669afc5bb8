import { createMetrics } from '@baton/telemetry';

const metrics = createMetrics('agent-runner');

const spend = metrics.counter('baton.llm.cost', {
  unit: 'USD',
  description: "Model spend at the gateway's per-model prices, per model and agent",
});

const tokens = metrics.counter('baton.llm.tokens', {
  unit: '{token}',
  description: 'Tokens consumed, per model, agent and direction (gen_ai.token.type input or output)',
});

export interface ModelUsageLine {
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** A task's model usage, once its usage record is published (the same figures budgets are kept from). */
export function recordModelUsage(agent: { id: string; team: string }, lines: readonly ModelUsageLine[]): void {
  for (const line of lines) {
    const attributes = { 'gen_ai.request.model': line.model, 'baton.agent.id': agent.id, 'baton.agent.team': agent.team };
    spend.add(line.costUsd, attributes);
    tokens.add(line.inputTokens, { ...attributes, 'gen_ai.token.type': 'input' });
    tokens.add(line.outputTokens, { ...attributes, 'gen_ai.token.type': 'output' });
  }
}
