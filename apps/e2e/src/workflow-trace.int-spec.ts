/**
 * DESIGN's "one trace per workflow across every service and Kafka hop", as an
 * operator's collector receives it: router and agent-runner run as real
 * processes on real Kafka and Postgres and export their spans over OTLP/HTTP
 * to a real HTTP server. A workflow whose first step fails once and is retried
 * by the router's timer, a workflow cancelled over HTTP and a workflow
 * requested over Kafka must each be one connected trace holding every routing
 * decision, every assignment the runner took and every model call; the last
 * one continues the trace of the service that requested it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RawKafka } from '@baton/bus/testing';
import { TOPICS, createEnvelope, serializeEnvelope, workflowRequested } from '@baton/contracts';
import { FakeModelServer, openAiText, openAiToolCalls, serverError } from '@baton/llm-gateway/testing';
import { expectEventually, testInfra } from '@baton/testing';
import { startRouterAndRunner, type RouterAndRunner } from './router-and-runner';
import { OtlpCollector, type ExportedSpan } from './otlp-collector';
import { writeRunnerFixture } from './runner-fixture';

const API_KEY = 'e2e-trace-key-0123456789abcdefgh';

/** The spans of `traceId`, after checking they form one tree: a single root (whose parent, if any, was not exported here), every other span's parent in the trace. */
function treeOf(
  spans: readonly ExportedSpan[],
  traceId: string,
  expectedRoot = 'router: start workflow',
): { root: ExportedSpan; spans: ExportedSpan[] } {
  const inTrace = spans.filter((span) => span.traceId === traceId);
  const ids = new Set(inTrace.map((span) => span.spanId));
  const roots = inTrace.filter((span) => !ids.has(span.parentSpanId));
  expect(roots.map((span) => `${span.service}: ${span.name}`)).toEqual([expectedRoot]);
  return { root: roots[0]!, spans: inTrace };
}

describe('one trace per workflow, end to end', () => {
  const infra = testInfra();
  const collector = new OtlpCollector();
  const models = new FakeModelServer();
  let services: RouterAndRunner;
  const raw = new RawKafka(infra.kafka.brokers);

  async function api(path: string, body: unknown): Promise<{ id: string; status: string }> {
    const response = await fetch(`${services.router.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(202);
    return (await response.json()) as { id: string; status: string };
  }

  async function statusOf(id: string): Promise<string> {
    const response = await fetch(`${services.router.baseUrl}/workflows/${id}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    return ((await response.json()) as { status: string }).status;
  }

  /** The trace the workflow started in, found by its start span. */
  function traceOf(workflowId: string): string {
    const start = collector.spans().find((span) => span.name === 'start workflow' && span.attributes['baton.workflow.id'] === workflowId);
    if (!start) throw new Error(`no start span for workflow ${workflowId} received yet`);
    return start.traceId;
  }

  beforeAll(async () => {
    const collectorUrl = await collector.start();
    await models.start();
    models.setDefault('openai', () => openAiText('{"severity":"low"}'));
    const fixture = writeRunnerFixture({
      agents: {
        'triager.yaml': `
id: trace-triager
team: sre
capabilities: [trace-triage]
scopes: [public]
model: gpt
systemPrompt: You triage. Answer JSON only.
outputSchema: { type: object, required: [severity] }
confidence: { from: fixed, value: 0.9 }
maxConcurrency: 4
`,
        'actor.yaml': `
id: trace-actor
team: sre
capabilities: [trace-act]
scopes: [incidents]
tools: [publish_fact]
model: gpt
systemPrompt: You act on incidents. Answer JSON only.
outputSchema: { type: object, required: [severity] }
confidence: { from: fixed, value: 0.9 }
maxConcurrency: 4
`,
      },
      openAiBaseUrl: models.openAiBaseUrl,
      alias: 'gpt',
      model: 'gpt-trace',
    });
    const policyFile = join(fixture.agentsDir, '..', 'policies.yaml');
    writeFileSync(
      policyFile,
      ['version: 1', 'policies:', '  - { id: sre-incidents, effect: allow, subjects: { teams: [sre] }, scopes: [incidents] }'].join('\n'),
    );
    services = await startRouterAndRunner(infra, {
      name: 'trace',
      collectorUrl,
      apiKey: API_KEY,
      runnerFixture: fixture,
      capabilities: ['trace-triage', 'trace-act'],
      routerEnv: { ROUTER_POLICY_FILE: policyFile },
    });
  });

  afterAll(async () => {
    await Promise.allSettled([services?.stop(), raw.close()]);
    await Promise.allSettled([collector.stop(), models.stop()]);
  });

  it('follows a workflow through routing, the runner, its model calls and a timer-dispatched retry in one trace', async () => {
    // The gateway tries a target three times (two retries); all three fail, so the first attempt fails retryably.
    models.enqueue('openai', serverError('openai'), serverError('openai'), serverError('openai'));
    const { id } = await api('/workflows', {
      definition: {
        name: 'trace-check',
        pattern: 'sequential',
        steps: [
          { id: 'first', capability: 'trace-triage', retry: { maxAttempts: 2, backoffMs: 100 } },
          { id: 'second', capability: 'trace-triage' },
        ],
      },
      input: { incident: 'INC-9' },
    });
    await expectEventually(async () => expect(await statusOf(id)).toBe('completed'), { timeoutMs: 60_000 });
    const assigned = `${services.topicPrefix}${TOPICS.tasksAssigned}`;
    const results = `${services.topicPrefix}${TOPICS.tasksResults}`;

    await expectEventually(
      () => {
        const traceId = traceOf(id);
        const { spans } = treeOf(collector.spans(), traceId);
        const named = (service: string, name: string): ExportedSpan[] =>
          spans.filter((span) => span.service === service && span.name === name);

        // Nothing the router did for this workflow is outside its trace.
        expect(collector.spans().filter((span) => span.attributes['baton.workflow.id'] === id && span.traceId !== traceId)).toEqual([]);
        // Every routing decision: the first step twice (the retry), then the second.
        const routes = named('router', 'route trace-triage').map((span) => [
          span.attributes['baton.step.id'],
          span.attributes['baton.step.attempt'],
          span.attributes['baton.route.outcome'],
          span.attributes['baton.agent.id'],
        ]);
        expect(routes.sort()).toEqual([
          ['first', '1', 'assigned', 'trace-triager'],
          ['first', '2', 'assigned', 'trace-triager'],
          ['second', '1', 'assigned', 'trace-triager'],
        ]);
        // The retry came from the router's timer, not from a message, and still joined the trace.
        const retry = named('router', 'retry step');
        expect(retry).toHaveLength(1);
        const retried = named('router', 'route trace-triage').find((span) => span.attributes['baton.step.attempt'] === '2');
        expect(retried?.parentSpanId).toBe(retry[0]!.spanId);
        // The runner took each assignment within the trace and made its model calls there: three failed, two answered.
        expect(named('agent-runner', `process ${assigned}`)).toHaveLength(3);
        expect(named('agent-runner', 'chat gpt-trace')).toHaveLength(5);
        // And each result came back to the router within it.
        expect(named('router', `process ${results}`)).toHaveLength(3);
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  });

  it('joins a cancellation over HTTP to the workflow trace, and the runner hears of it there', async () => {
    // The step waits at the model long enough to be cancelled while it runs.
    models.enqueue('openai', { ...openAiText('{"severity":"high"}'), delayMs: 30_000 });
    const { id } = await api('/workflows', {
      definition: { name: 'trace-cancel', pattern: 'sequential', steps: [{ id: 'only', capability: 'trace-triage' }] },
      input: { incident: 'INC-10' },
    });
    await expectEventually(() => expect(models.inFlight).toBeGreaterThan(0), { timeoutMs: 30_000 });
    await api(`/workflows/${id}/cancel`, { reason: 'duplicate incident' });
    expect(await statusOf(id)).toBe('cancelled');

    await expectEventually(
      () => {
        const { spans } = treeOf(collector.spans(), traceOf(id));
        const cancel = spans.filter((span) => span.service === 'router' && span.name === 'cancel workflow');
        expect(cancel).toHaveLength(1);
        // The runner received the cancellation within the same trace.
        const cancelled = spans.filter(
          (span) => span.service === 'agent-runner' && span.name === `process ${services.topicPrefix}${TOPICS.tasksAssigned}`,
        );
        expect(cancelled).toHaveLength(2);
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  });

  it('continues the trace of the service that requested a workflow over Kafka', async () => {
    const requesterTrace = randomBytes(16).toString('hex');
    const requesterSpan = randomBytes(8).toString('hex');
    const workflowId = randomUUID();
    const envelope = createEnvelope(
      workflowRequested,
      {
        workflowId,
        definition: { name: 'trace-by-kafka', pattern: 'sequential', steps: [{ id: 'only', capability: 'trace-triage' }] },
        input: { incident: 'INC-11' },
        requestedBy: 'e2e',
      },
      { source: 'e2e', correlationId: workflowId },
    );
    await raw.produce(`${services.topicPrefix}${TOPICS.workflowRequests}`, [
      { key: workflowId, value: serializeEnvelope(envelope), headers: { traceparent: `00-${requesterTrace}-${requesterSpan}-01` } },
    ]);
    await expectEventually(async () => expect(await statusOf(workflowId)).toBe('completed'), { timeoutMs: 60_000 });

    await expectEventually(
      () => {
        expect(traceOf(workflowId)).toBe(requesterTrace);
        // The router's consumer span hangs off the requester's span; its own spans and the runner's follow in the same tree.
        const { root, spans } = treeOf(
          collector.spans(),
          requesterTrace,
          `router: process ${services.topicPrefix}${TOPICS.workflowRequests}`,
        );
        expect(root.parentSpanId).toBe(requesterSpan);
        expect(spans.filter((span) => span.service === 'router' && span.name === 'route trace-triage')).toHaveLength(1);
        expect(spans.filter((span) => span.service === 'agent-runner' && span.name === 'chat gpt-trace')).toHaveLength(1);
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  });

  it("traces a step's policy decision, its context access and the actions its agent took", async () => {
    models.enqueue(
      'openai',
      openAiToolCalls([
        {
          id: 'call-1',
          name: 'publish_fact',
          arguments: { about: { kind: 'Service', id: 'checkout-api' }, attribute: 'p95-latency-ms', value: 900, confidence: 0.8 },
        },
      ]),
      openAiText('{"severity":"high"}'),
    );
    const { id } = await api('/workflows', {
      definition: { name: 'trace-act', pattern: 'sequential', steps: [{ id: 'act', capability: 'trace-act', scopes: ['incidents'] }] },
      input: { entities: [{ kind: 'Service', id: 'checkout-api' }] },
    });
    await expectEventually(async () => expect(await statusOf(id)).toBe('completed'), { timeoutMs: 60_000 });

    await expectEventually(
      () => {
        const { spans } = treeOf(collector.spans(), traceOf(id));
        const route = spans.find((span) => span.name === 'route trace-act');
        const policy = spans.filter((span) => span.service === 'router' && span.name === 'policy data.access');
        expect(policy).toEqual([
          expect.objectContaining({
            parentSpanId: route?.spanId,
            attributes: expect.objectContaining({
              'baton.policy.decision': 'allow',
              'baton.policy.evaluated_agents': '1',
              'baton.policy.permitted_agents': '1',
            }),
          }),
        ]);
        // The graph is not running here: the access is traced all the same, and the task goes on without context.
        const access = spans.filter((span) => span.service === 'agent-runner' && span.name === 'inject context');
        expect(access).toEqual([
          expect.objectContaining({ attributes: expect.objectContaining({ 'baton.context.entities': '1', 'baton.context.facts': '0' }) }),
        ]);
        const action = spans.filter((span) => span.service === 'agent-runner' && span.name === 'execute_tool publish_fact');
        expect(action).toEqual([
          expect.objectContaining({
            attributes: expect.objectContaining({
              'gen_ai.tool.call.id': 'call-1',
              'baton.tool.outcome': 'allowed',
              'baton.workflow.id': id,
            }),
          }),
        ]);
        expect(spans.filter((span) => span.service === 'agent-runner' && span.name === 'chat gpt-trace')).toHaveLength(2);
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  });
});
