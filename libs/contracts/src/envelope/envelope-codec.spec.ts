import { randomUUID } from 'node:crypto';
import { agentHeartbeat } from '../messages/agent/agent-heartbeat.message';
import { taskAssigned } from '../messages/task/task-messages';
import { workflowStarted } from '../messages/workflow/workflow-events.messages';
import { workflowRequested } from '../messages/workflow/workflow-requested.message';
import type { PayloadOf } from '../messages/message-contract';
import { TOPICS } from '../topics/topics';
import type { EnvelopeMeta } from './envelope';
import { createEnvelope, parseEnvelope, serializeEnvelope } from './envelope-codec';
import { ContractValidationError } from './validation-error';

const workflowId = randomUUID();
const meta: EnvelopeMeta = { source: 'router-api', correlationId: workflowId, workflowId };

function requestPayload(overrides: Partial<PayloadOf<typeof workflowRequested>> = {}) {
  return {
    workflowId,
    definition: {
      name: 'incident-triage',
      pattern: 'sequential' as const,
      steps: [
        { id: 'collect', capability: 'logs.search' },
        { id: 'summarise', capability: 'text.summarise', params: { maxWords: 200 }, timeoutMs: 30_000 },
      ],
    },
    input: { incident: 'INC-42', severity: 2 },
    requestedBy: 'alice@example.com',
    ...overrides,
  };
}

/** The issues of the ContractValidationError `fn` throws. */
function issuesOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ContractValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a ContractValidationError');
}

const raw = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');

describe('createEnvelope', () => {
  it('builds a complete envelope: generated uuid id, timestamp, type and version from the contract', () => {
    const envelope = createEnvelope(workflowRequested, requestPayload(), meta);
    expect(envelope).toMatchObject({
      type: 'workflow.requested',
      version: 1,
      source: 'router-api',
      correlationId: workflowId,
      workflowId,
      payload: requestPayload(),
    });
    expect(envelope.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.isNaN(Date.parse(envelope.occurredAt))).toBe(false);
    expect(envelope).not.toHaveProperty('causationId');
  });

  it('rejects an invalid payload, naming each field path', () => {
    const { requestedBy: _requestedBy, ...withoutRequester } = requestPayload({ workflowId: 'not-a-uuid' });
    const issues = issuesOf(() => createEnvelope(workflowRequested, withoutRequester as PayloadOf<typeof workflowRequested>, meta));
    expect(issues).toEqual([expect.stringMatching(/^payload\.workflowId: /), 'payload.requestedBy: required']);
  });

  it('names nested paths inside arrays', () => {
    const payload = requestPayload();
    payload.definition.steps[1] = { id: 'summarise', capability: 'has spaces' };
    expect(issuesOf(() => createEnvelope(workflowRequested, payload, meta))).toEqual([
      expect.stringMatching(/^payload\.definition\.steps\[1\]\.capability: must be letters, digits/),
    ]);
  });

  it('rejects a duplicated step id in a workflow definition, naming payload.definition.steps[1].id', () => {
    const payload = requestPayload();
    payload.definition.steps[1] = { id: 'collect', capability: 'text.summarise' };
    expect(issuesOf(() => createEnvelope(workflowRequested, payload, meta))).toEqual([
      'payload.definition.steps[1].id: duplicate step id "collect"',
    ]);
    const started = { workflowId, definition: payload.definition, input: null };
    expect(issuesOf(() => createEnvelope(workflowStarted, started, meta))).toEqual([
      'payload.definition.steps[1].id: duplicate step id "collect"',
    ]);
  });

  it('rejects invalid envelope metadata, naming the field', () => {
    expect(issuesOf(() => createEnvelope(workflowRequested, requestPayload(), { ...meta, correlationId: '' }))).toEqual([
      expect.stringMatching(/^correlationId: /),
    ]);
    expect(issuesOf(() => createEnvelope(workflowRequested, requestPayload(), { ...meta, id: 'x' }))).toEqual([
      expect.stringMatching(/^id: /),
    ]);
  });
});

describe('parseEnvelope', () => {
  const valid = () => createEnvelope(workflowRequested, requestPayload(), { ...meta, causationId: randomUUID() });

  it('accepts a serialised envelope on its topic, as bytes or text, and finds its contract', () => {
    const envelope = valid();
    const fromBytes = parseEnvelope(TOPICS.workflowRequests, serializeEnvelope(envelope));
    expect(fromBytes.envelope).toEqual(envelope);
    expect(fromBytes.contract).toBe(workflowRequested);
    expect(parseEnvelope(TOPICS.workflowRequests, JSON.stringify(envelope)).envelope).toEqual(envelope);
  });

  it('takes the logical topic name (the bus strips a wire prefix)', () => {
    const envelope = valid();
    expect(issuesOf(() => parseEnvelope(`x${TOPICS.workflowRequests}`, serializeEnvelope(envelope)))).toEqual([
      `type: workflow.requested belongs on ${TOPICS.workflowRequests}`,
    ]);
  });

  it('rejects empty and non-JSON records', () => {
    expect(issuesOf(() => parseEnvelope(TOPICS.workflowRequests, null))).toEqual(['(root): empty message']);
    expect(issuesOf(() => parseEnvelope(TOPICS.workflowRequests, Buffer.alloc(0)))).toEqual(['(root): empty message']);
    expect(issuesOf(() => parseEnvelope(TOPICS.workflowRequests, '{"id": '))).toEqual([expect.stringMatching(/^\(root\): not JSON/)]);
  });

  it('rejects missing envelope fields, naming each', () => {
    const { id: _id, correlationId: _correlationId, ...partial } = valid();
    expect(issuesOf(() => parseEnvelope(TOPICS.workflowRequests, raw(partial)))).toEqual(['id: required', 'correlationId: required']);
  });

  it('rejects fields the envelope does not define', () => {
    expect(issuesOf(() => parseEnvelope(TOPICS.workflowRequests, raw({ ...valid(), priority: 'high' })))).toEqual([
      expect.stringMatching(/^\(root\): .*priority/),
    ]);
  });

  it('rejects an unknown type or version', () => {
    expect(issuesOf(() => parseEnvelope(TOPICS.workflowRequests, raw({ ...valid(), type: 'workflow.exploded' })))).toEqual([
      'type: unknown message workflow.exploded@1',
    ]);
    expect(issuesOf(() => parseEnvelope(TOPICS.workflowRequests, raw({ ...valid(), version: 2 })))).toEqual([
      'type: unknown message workflow.requested@2',
    ]);
  });

  it('rejects a message on the wrong topic', () => {
    expect(issuesOf(() => parseEnvelope(TOPICS.workflowEvents, serializeEnvelope(valid())))).toEqual([
      'type: workflow.requested belongs on baton.workflow.requests',
    ]);
  });

  it('rejects an invalid payload, naming payload paths', () => {
    const envelope = {
      ...valid(),
      payload: { ...requestPayload(), requestedBy: undefined, input: undefined, extra: true },
    };
    expect(issuesOf(() => parseEnvelope(TOPICS.workflowRequests, raw(envelope)))).toEqual([
      // A missing JSON value fails zod's union, hence no "required" wording; the path is what matters.
      expect.stringMatching(/^payload\.input: /),
      'payload.requestedBy: required',
      expect.stringMatching(/^payload: .*extra/),
    ]);
  });

  it('rejects a duplicated step id arriving from the wire', () => {
    const envelope = valid();
    const steps = [...envelope.payload.definition.steps, { id: 'collect', capability: 'again' }];
    const tampered = {
      ...envelope,
      payload: { ...envelope.payload, definition: { ...envelope.payload.definition, steps } },
    };
    expect(issuesOf(() => parseEnvelope(TOPICS.workflowRequests, raw(tampered)))).toEqual([
      'payload.definition.steps[2].id: duplicate step id "collect"',
    ]);
  });

  it('validates other topics the same way (heartbeats, task assignments)', () => {
    const heartbeat = createEnvelope(
      agentHeartbeat,
      {
        agentId: 'triage-agent',
        instanceId: 'triage-agent-0',
        team: 'sre',
        capabilities: ['logs.search'],
        scopes: [],
        models: ['builtin:echo'],
        maxConcurrency: 2,
        inFlight: 0,
        startedAt: '2026-01-01T00:00:00.000Z',
      },
      { source: 'agent-runner', correlationId: 'triage-agent' },
    );
    expect(parseEnvelope(TOPICS.agentHeartbeats, serializeEnvelope(heartbeat)).contract).toBe(agentHeartbeat);
    expect(issuesOf(() => parseEnvelope(TOPICS.tasksAssigned, serializeEnvelope(heartbeat)))).toEqual([
      'type: agent.heartbeat belongs on baton.agents.heartbeats',
    ]);
    expect(taskAssigned.topic).toBe(TOPICS.tasksAssigned);
  });
});
