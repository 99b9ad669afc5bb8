/**
 * The first vertical slice end to end: router and agent-runner run as real
 * processes on real Kafka and Postgres; a workflow goes in over HTTP or Kafka
 * and is checked by what comes out.
 */
import { randomUUID } from 'node:crypto';
import { KafkaBus } from '@baton/bus';
import { RawKafka, type RawMessage } from '@baton/bus/testing';
import { TOPICS, createEnvelope, dlqTopic, workflowRequested, type WorkflowDefinition } from '@baton/contracts';
import { expectEventually, testInfra, type SpawnedApp } from '@baton/testing';
import { startRouterAndRunner, type RouterAndRunner } from './router-and-runner';

const API_KEY = 'e2e-test-key-0123456789abcdef';

interface WorkflowView {
  id: string;
  status: string;
  output: unknown;
  steps: Array<{ id: string; status: string; attempt: number; agentId: string | null; output: unknown; confidence: number | null }>;
}

const twoSteps: WorkflowDefinition = {
  name: 'document-review',
  pattern: 'sequential',
  steps: [
    { id: 'extract', capability: 'extraction' },
    { id: 'classify', capability: 'classification', params: { labels: ['contract', 'invoice'] } },
  ],
};

describe('sequential workflow, end to end', () => {
  const infra = testInfra();
  let services: RouterAndRunner;
  let router: SpawnedApp;
  let topicPrefix: string;
  let raw: RawKafka;

  const api = async (path: string, init: RequestInit = {}, key: string | null = API_KEY): Promise<Response> =>
    fetch(`${router.baseUrl}${path}`, {
      ...init,
      headers: {
        'content-type': 'application/json',
        ...(key === null ? {} : { authorization: `Bearer ${key}` }),
        ...(init.headers ?? {}),
      },
    });

  const workflowOf = async (id: string): Promise<WorkflowView> => {
    const response = await api(`/workflows/${id}`);
    expect(response.status).toBe(200);
    return (await response.json()) as WorkflowView;
  };

  const completed = async (id: string): Promise<WorkflowView> => {
    let view: WorkflowView | undefined;
    await expectEventually(
      async () => {
        view = await workflowOf(id);
        expect(view.status).toBe('completed');
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    return view!;
  };

  beforeAll(async () => {
    services = await startRouterAndRunner(infra, {
      name: 'sequential',
      apiKey: API_KEY,
      capabilities: ['extraction', 'classification'],
      runnerEnv: { RUNNER_INSTANCE_ID: 'e2e-runner-1', BATON_LOG_LEVEL: 'log' },
      routerEnv: { BATON_LOG_LEVEL: 'log' },
    });
    ({ router, topicPrefix } = services);
    raw = new RawKafka(infra.kafka.brokers);
  });

  afterAll(async () => {
    await Promise.allSettled([services?.stop(), raw?.close()]);
  });

  it('runs a two-step workflow submitted over HTTP, feeding step one into step two', async () => {
    const response = await api('/workflows', {
      method: 'POST',
      body: JSON.stringify({ definition: twoSteps, input: { document: 'Master services agreement, 12 pages' } }),
    });
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as WorkflowView;
    expect(accepted.status).toBe('running');

    const view = await completed(accepted.id);
    expect(view.steps.map((step) => [step.id, step.status, step.attempt])).toEqual([
      ['extract', 'completed', 1],
      ['classify', 'completed', 1],
    ]);
    const [extract, classify] = view.steps;
    expect(extract!.output).toMatchObject({ capability: 'extraction', model: 'baton-deterministic-v1' });
    expect(classify!.output).toMatchObject({ capability: 'classification', summary: 'classification of {input, params}' });
    expect(extract!.agentId).toBe('builtin-clerk');
    expect(view.output).toEqual(classify!.output);
  });

  it('starts a workflow from a workflow.requested message on Kafka', async () => {
    const bus = new KafkaBus({ brokers: infra.kafka.brokers, clientId: 'e2e-requester', topicPrefix });
    await bus.connect();
    try {
      const workflowId = randomUUID();
      await bus.publish(
        workflowRequested,
        createEnvelope(
          workflowRequested,
          { workflowId, definition: twoSteps, input: { document: 'from kafka' }, requestedBy: 'e2e' },
          { source: 'e2e', correlationId: workflowId },
        ),
      );
      const view = await completed(workflowId);
      expect(view.steps.every((step) => step.status === 'completed')).toBe(true);
    } finally {
      await bus.disconnect();
    }
  });

  it('rejects malformed and unauthenticated requests, naming the field', async () => {
    const missingCapability = await api('/workflows', {
      method: 'POST',
      body: JSON.stringify({ definition: { name: 'x', pattern: 'sequential', steps: [{ id: 'a' }] } }),
    });
    expect(missingCapability.status).toBe(400);
    expect(await missingCapability.json()).toMatchObject({
      error: 'validation_failed',
      issues: ['definition.steps[0].capability: required'],
    });

    const notJson = await api('/workflows', { method: 'POST', body: '{"definition": ' });
    expect(notJson.status).toBe(400);

    const unauthenticated = await api('/workflows', { method: 'POST', body: JSON.stringify({}) }, null);
    expect(unauthenticated.status).toBe(401);
    const wrongKey = await api(`/workflows/${randomUUID()}`, {}, 'not-the-right-key-at-all');
    expect(wrongKey.status).toBe(401);

    const unknown = await api(`/workflows/${randomUUID()}`);
    expect(unknown.status).toBe(404);
  });

  it('dead-letters garbage on the topics it consumes and keeps going', async () => {
    const resultsTopic = `${topicPrefix}${TOPICS.tasksResults}`;
    await raw.produce(resultsTopic, [
      { key: 'garbage-1', value: 'this is not json' },
      { key: 'garbage-2', value: JSON.stringify({ id: 'not-a-uuid', type: 'task.completed' }) },
    ]);

    const garbage = (messages: RawMessage[]): RawMessage[] => messages.filter((message) => message.key?.startsWith('garbage-'));
    const dead = await raw.readUntil(dlqTopic(resultsTopic), (messages) => garbage(messages).length >= 2, 30_000);
    const byKey = new Map(dead.map((message) => [message.key, message]));
    expect(byKey.get('garbage-1')?.value.toString('utf8')).toBe('this is not json');
    expect(byKey.get('garbage-1')?.headers['baton-dlq-reason']).toMatch(/not JSON/);
    expect(byKey.get('garbage-2')?.headers['baton-dlq-reason']).toMatch(/^invalid envelope .*id: Invalid UUID/);

    const response = await api('/workflows', {
      method: 'POST',
      body: JSON.stringify({ definition: twoSteps, input: 'after the garbage' }),
    });
    const accepted = (await response.json()) as WorkflowView;
    await completed(accepted.id);
  });

  it('stops gracefully on SIGTERM: consumers drained and the bus disconnected before exit', async () => {
    await router.stop();
    // Nest re-raises the signal once its shutdown hooks are done; a hung shutdown would end in SIGKILL.
    expect(router.exitStatus()).toBe('signal SIGTERM');
    expect(router.logTail(50)).toContain('"message":"bus disconnected"');
  });
});
