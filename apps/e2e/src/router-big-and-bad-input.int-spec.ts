/**
 * No artificial limits, and bad input refused: router and agent-runner as real
 * processes on real Kafka and Postgres. A sequential workflow whose agent
 * writes 1 MB per step runs to the end (every result, step event and next
 * task travels by claim check); submissions naming unknown capabilities or
 * oversized inputs are refused over HTTP and over Kafka, nothing created, and
 * so is text Postgres cannot store (a NUL, a lone surrogate).
 */
import { createHash, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { KafkaBus } from '@baton/bus';
import { RawKafka } from '@baton/bus/testing';
import { TOPICS, createEnvelope, decodeEnvelope, workflowRequested, type WorkflowDefinition } from '@baton/contracts';
import { FakeModelServer, openAiText } from '@baton/llm-gateway/testing';
import { expectEventually, testInfra, type SpawnedApp } from '@baton/testing';
import { startRouterAndRunner, type RouterAndRunner } from './router-and-runner';
import { writeRunnerFixture } from './runner-fixture';

const API_KEY = 'e2e-test-key-0123456789abcdef';
const MIB = 1_048_576;
const MAX_INPUT = 4 * MIB;

interface WorkflowView {
  id: string;
  status: string;
  output: unknown;
  steps: Array<{ id: string; status: string; output: unknown }>;
}

interface BigOutput {
  summary: string;
  confidence: number;
  blob: string;
  previousLength: number;
  previousSha256: string | null;
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
/** What the fake model writes for a step: deterministic, so the test knows every byte. */
const blobFor = (stepId: string, size: number): string => `${stepId}:`.repeat(Math.ceil(size / (stepId.length + 1))).slice(0, size);

const AGENT = `
id: big-writer
team: platform
capabilities: [big-output]
scopes: [public]
model: fake
systemPrompt: Answer with JSON.
promptTemplate: |
  step={{stepId}}
  size={{input.params.size}}
  previous={{input.input}}
outputSchema:
  type: object
  required: [summary, confidence, blob]
  properties:
    summary: { type: string }
    confidence: { type: number, minimum: 0, maximum: 1 }
    blob: { type: string }
confidence: { from: output, field: confidence }
maxConcurrency: 4
`;

/** Writes `size` bytes, and proves it received the whole previous output by its length and digest. */
function bigAnswer(body: Record<string, unknown>): ReturnType<typeof openAiText> {
  const messages = body['messages'] as Array<{ role: string; content: string }>;
  const prompt = messages
    .filter((message) => message.role === 'user')
    .map((message) => message.content)
    .join('\n');
  const stepId = /step=(\S+)/.exec(prompt)?.[1] ?? 'unknown';
  const size = Number(/size=(\d+)/.exec(prompt)?.[1] ?? '16');
  const previousText = prompt.slice(prompt.indexOf('previous=') + 'previous='.length).trim();
  let previous: string | null = null;
  try {
    const parsed = JSON.parse(previousText) as { blob?: unknown };
    previous = typeof parsed.blob === 'string' ? parsed.blob : null;
  } catch {
    previous = null;
  }
  const answer: BigOutput = {
    summary: `wrote ${size} bytes`,
    confidence: 0.9,
    blob: blobFor(stepId, size),
    previousLength: previous?.length ?? 0,
    previousSha256: previous === null ? null : sha(previous),
  };
  return openAiText(JSON.stringify(answer));
}

const bigWorkflow: WorkflowDefinition = {
  name: 'big-outputs',
  pattern: 'sequential',
  steps: ['one', 'two', 'three'].map((id) => ({ id, capability: 'big-output', params: { size: MIB }, timeoutMs: 120_000 })),
};

describe('router: 1 MB step outputs by claim check; unknown capabilities and oversized inputs refused', () => {
  const infra = testInfra();
  const models = new FakeModelServer();
  let services: RouterAndRunner;
  let router: SpawnedApp;
  let topicPrefix: string;
  let schema: string;
  let raw: RawKafka;
  let db: Client;

  const api = async (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${router.baseUrl}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, ...(init.headers ?? {}) },
    });
  const workflowCount = async (): Promise<number> =>
    Number(((await db.query(`SELECT count(*)::int AS n FROM "${schema}".workflows`)).rows[0] as { n: number }).n);

  beforeAll(async () => {
    await models.start();
    models.setDefault('openai', bigAnswer);
    const fixture = writeRunnerFixture({
      agents: { 'big-writer.yaml': AGENT },
      openAiBaseUrl: models.openAiBaseUrl,
      alias: 'fake',
      model: 'gpt-big',
      usdPer1M: 0,
      apiKeyEnv: 'E2E_OPENAI_KEY',
    });
    // Capabilities are checked at submission: this resolves once the runner's agent is registered.
    services = await startRouterAndRunner(infra, {
      name: 'big',
      apiKey: API_KEY,
      capabilities: ['big-output'],
      runnerFixture: fixture,
      routerEnv: { ROUTER_MAX_INPUT_BYTES: String(MAX_INPUT) },
      runnerEnv: { RUNNER_INSTANCE_ID: 'e2e-big-runner', E2E_OPENAI_KEY: 'sk-e2e', RUNNER_HEARTBEAT_INTERVAL_MS: '1000' },
    });
    ({ router, topicPrefix, routerSchema: schema } = services);
    raw = new RawKafka(infra.kafka.brokers);
    db = new Client({ connectionString: infra.postgres.url });
    await db.connect();
  });

  afterAll(async () => {
    await Promise.allSettled([services?.stop(), raw?.close(), db?.end()]);
    await models.stop();
  });

  it('runs three steps of 1 MB outputs to the end, each step receiving the previous output whole', async () => {
    const response = await api('/workflows', { method: 'POST', body: JSON.stringify({ definition: bigWorkflow, input: { note: 'big' } }) });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as WorkflowView;
    let view: WorkflowView | undefined;
    await expectEventually(
      async () => {
        view = (await (await api(`/workflows/${id}`)).json()) as WorkflowView;
        expect(view.status).toBe('completed');
      },
      { timeoutMs: 180_000, intervalMs: 500 },
    );
    const [one, two, three] = view!.steps.map((step) => step.output as BigOutput);
    expect(view!.steps.map((step) => step.status)).toEqual(['completed', 'completed', 'completed']);
    for (const [output, stepId] of [
      [one, 'one'],
      [two, 'two'],
      [three, 'three'],
    ] as const) {
      expect(output!.blob).toHaveLength(MIB);
      expect(sha(output!.blob)).toBe(sha(blobFor(stepId, MIB)));
    }
    // What the agent of step n saw of step n-1 (through a claim-checked task.assigned).
    expect([two!.previousLength, two!.previousSha256]).toEqual([MIB, sha(blobFor('one', MIB))]);
    expect([three!.previousLength, three!.previousSha256]).toEqual([MIB, sha(blobFor('two', MIB))]);
    const final = view!.output as BigOutput;
    expect(final.blob.length).toBe(MIB);
    expect(sha(final.blob)).toBe(sha(blobFor('three', MIB)));
  });

  it('refuses over HTTP a workflow naming a capability no agent announced, naming the path; nothing is created', async () => {
    const before = await workflowCount();
    const definition: WorkflowDefinition = {
      name: 'unknown-capability',
      pattern: 'sequential',
      steps: [
        { id: 'fine', capability: 'big-output', params: { size: 10 } },
        { id: 'bad', capability: 'no-such-capability' },
      ],
    };
    const response = await api('/workflows', { method: 'POST', body: JSON.stringify({ definition, input: {} }) });
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({
      error: 'unknown_capability',
      issues: ['steps[1].capability: unknown capability "no-such-capability" (no agent has announced it)'],
    });
    expect(await workflowCount()).toBe(before);
  });

  it('refuses over Kafka with workflow.failed (and no workflow.started) naming the path; nothing is created', async () => {
    const bus = new KafkaBus({ brokers: infra.kafka.brokers, clientId: 'e2e-big-requester', topicPrefix });
    await bus.connect();
    const workflowId = randomUUID();
    try {
      const definition: WorkflowDefinition = {
        name: 'unknown-over-kafka',
        pattern: 'parallel',
        steps: [
          {
            id: 'fan',
            branches: [
              { id: 'a', capability: 'big-output' },
              { id: 'b', capability: 'ghost' },
            ],
            merge: { strategy: 'all' },
          },
        ],
      };
      await bus.publish(
        workflowRequested,
        createEnvelope(
          workflowRequested,
          { workflowId, definition, input: {}, requestedBy: 'e2e' },
          { source: 'e2e', correlationId: workflowId },
        ),
      );
    } finally {
      await bus.disconnect();
    }
    const events = await raw.readUntil(
      `${topicPrefix}${TOPICS.workflowEvents}`,
      (messages) => messages.some((message) => message.key === workflowId && message.value.includes('workflow.failed')),
      60_000,
    );
    const ours = events
      .filter((message) => message.key === workflowId)
      .map((message) => decodeEnvelope(TOPICS.workflowEvents, message.value));
    expect(ours.map((event) => event.header.type)).toEqual(['workflow.failed']);
    expect(ours[0]!.payload).toMatchObject({
      workflowId,
      error: {
        code: 'unknown_capability',
        retryable: false,
        message: expect.stringContaining('steps[0].branches[1].capability: unknown capability "ghost"'),
      },
    });
    expect((await db.query(`SELECT 1 FROM "${schema}".workflows WHERE id = $1`, [workflowId])).rows).toEqual([]);
  });

  it('refuses an input over ROUTER_MAX_INPUT_BYTES with 413 naming the field and the limit; nothing is created', async () => {
    const before = await workflowCount();
    const input = { text: 'x'.repeat(MAX_INPUT + 1) };
    const response = await api('/workflows', { method: 'POST', body: JSON.stringify({ definition: bigWorkflow, input }) });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { issues: string[] }).issues).toEqual([
      `input: ${MAX_INPUT + 12} bytes exceeds the limit of ${MAX_INPUT} bytes (ROUTER_MAX_INPUT_BYTES)`,
    ]);
    expect(await workflowCount()).toBe(before);
  });

  it('refuses a NUL character or a lone surrogate in the input or the definition with 400 naming each field; nothing is created', async () => {
    // Accepted, they failed the router's transaction (jsonb cannot hold them): a 500, and nothing said which field.
    const before = await workflowCount();
    const definition = { ...bigWorkflow, description: 'big\u0000' };
    const input = { x: 'a\u0000b', y: ['fine', '\ud800'] };
    const response = await api('/workflows', { method: 'POST', body: JSON.stringify({ definition, input }) });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: 'validation_failed',
      issues: [
        'definition.description: contains a NUL character (U+0000), which cannot be stored',
        'input.x: contains a NUL character (U+0000), which cannot be stored',
        'input.y[1]: contains an unpaired UTF-16 surrogate (U+D800), which cannot be stored',
      ],
    });
    expect(await workflowCount()).toBe(before);
  });

  it('registers a definition naming an unannounced capability, with a warning (agents may come later)', async () => {
    const response = await api('/definitions', {
      method: 'POST',
      body: JSON.stringify({ name: 'later', pattern: 'sequential', steps: [{ id: 'x', capability: 'arrives-later' }] }),
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({
      name: 'later',
      warnings: ['steps[0].capability: unknown capability "arrives-later" (no agent has announced it)'],
    });
  });
});
