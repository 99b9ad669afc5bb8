import { randomUUID } from 'node:crypto';
import { createEnvelope, envelopeKey } from '../envelope/envelope-codec';
import type { EnvelopeMeta } from '../envelope/envelope';
import { TOPICS } from '../topics/topics';
import { agentHeartbeat } from './agent/agent-heartbeat.message';
import { agentToolCalled } from './agent/agent-tool-call.message';
import { contractsOnTopic, findContract, MESSAGE_CONTRACTS } from './registry';
import { taskAssigned, taskCompleted, taskFailed } from './task/task-messages';
import {
  stepCompleted,
  stepDispatched,
  stepFailed,
  workflowCompleted,
  workflowFailed,
  workflowStarted,
} from './workflow/workflow-events.messages';
import { workflowRequested } from './workflow/workflow-requested.message';

const workflowId = randomUUID();
const taskId = randomUUID();
const meta: EnvelopeMeta = { source: 'spec', correlationId: workflowId, workflowId };
const definition = {
  name: 'triage',
  pattern: 'sequential' as const,
  steps: [{ id: 'collect', capability: 'logs.search' }],
};
const stepRef = { workflowId, stepId: 'collect', taskId, attempt: 1 };
const usage = { model: 'builtin:echo', inputTokens: 10, outputTokens: 5, costUsd: 0 };
const error = { code: 'TIMEOUT', message: 'took too long', retryable: true };

describe('message keys', () => {
  it('keys workflow topics by workflow id', () => {
    const keys = [
      envelopeKey(workflowRequested, createEnvelope(workflowRequested, { workflowId, definition, input: 1, requestedBy: 'cli' }, meta)),
      envelopeKey(workflowStarted, createEnvelope(workflowStarted, { workflowId, definition, input: 1 }, meta)),
      envelopeKey(stepDispatched, createEnvelope(stepDispatched, { ...stepRef, capability: 'logs.search', input: null }, meta)),
      envelopeKey(stepCompleted, createEnvelope(stepCompleted, { ...stepRef, agentId: 'a1', output: 'ok', confidence: 0.9 }, meta)),
      envelopeKey(stepFailed, createEnvelope(stepFailed, { ...stepRef, error }, meta)),
      envelopeKey(workflowCompleted, createEnvelope(workflowCompleted, { workflowId, output: [] }, meta)),
      envelopeKey(workflowFailed, createEnvelope(workflowFailed, { workflowId, error }, meta)),
      envelopeKey(taskCompleted, createEnvelope(taskCompleted, { ...stepRef, agentId: 'a1', output: {}, confidence: 1, usage }, meta)),
      envelopeKey(taskFailed, createEnvelope(taskFailed, { ...stepRef, agentId: 'a1', error }, meta)),
    ];
    expect(new Set(keys)).toEqual(new Set([workflowId]));
  });

  it('keys heartbeats by agent id, whatever the correlation id', () => {
    const heartbeat = createEnvelope(
      agentHeartbeat,
      {
        agentId: 'triage-agent',
        instanceId: 'triage-agent-7',
        team: 'sre',
        capabilities: ['logs.search'],
        scopes: ['incidents:read'],
        models: ['builtin:echo'],
        maxConcurrency: 4,
        inFlight: 1,
        startedAt: '2026-01-01T00:00:00Z',
      },
      { source: 'agent-runner', correlationId: 'unrelated' },
    );
    expect(envelopeKey(agentHeartbeat, heartbeat)).toBe('triage-agent');
  });

  it('keys task assignments by the chosen agent, or by workflow when any agent may take it', () => {
    const assignment = { ...stepRef, capability: 'logs.search', input: {}, timeoutMs: 1000 };
    expect(envelopeKey(taskAssigned, createEnvelope(taskAssigned, { ...assignment, agentId: 'agent-3' }, meta))).toBe('agent-3');
    expect(envelopeKey(taskAssigned, createEnvelope(taskAssigned, assignment, meta))).toBe(workflowId);
  });
});

describe('registry', () => {
  it('finds contracts by type and version only', () => {
    expect(findContract('workflow.requested', 1)).toBe(workflowRequested);
    expect(findContract('workflow.requested', 2)).toBeUndefined();
    expect(findContract('no.such.type', 1)).toBeUndefined();
  });

  it('holds each (type, version) once and lists contracts per topic', () => {
    const ids = MESSAGE_CONTRACTS.map((contract) => `${contract.type}@${contract.version}`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(contractsOnTopic(TOPICS.tasksResults)).toEqual([taskCompleted, taskFailed]);
    expect(contractsOnTopic(TOPICS.audit)).toEqual([agentToolCalled]);
  });
});
