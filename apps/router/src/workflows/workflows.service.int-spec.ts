/**
 * The router's WorkflowsService on real Postgres, with what its transitions
 * emit read back from the outbox table (no relay runs here).
 *
 * Task results: several results of one workflow in one fetched batch are
 * applied in order in one transaction, and agents are only reserved when that
 * transaction writes. A step that an earlier result of the batch made ready
 * and a later one cancelled (the `first` winner, a fail-fast failure) must stay
 * cancelled: never dispatched, never holding an agent slot. And every cancelled
 * step is in the event log, including one no agent held (waiting for a retry).
 *
 * Waiting steps: the timer's pass over steps waiting for an agent tries those
 * an agent could take, so steps of a capability nobody serves do not hold the
 * others back.
 */
import { randomUUID } from 'node:crypto';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { DataSource } from 'typeorm';
import {
  createEnvelope,
  taskCompleted,
  taskFailed,
  workflowDefinitionSchema,
  type Envelope,
  type PayloadOf,
  type WorkflowDefinitionInput,
} from '@baton/contracts';
import { createServiceDataSource, Inbox, initializeDataSource, Outbox } from '@baton/persistence';
import { dropTestSchema, testInfra, uniqueName } from '@baton/testing';
import { AgentRegistry } from '../agents/agent-registry.service';
import { loadRouterConfig } from '../config/router-config';
import { AgentEntity } from '../persistence/agent.entity';
import { ROUTER_MIGRATIONS } from '../persistence/migrations/router-migrations';
import { WorkflowDefinitionEntity } from '../persistence/workflow-definition.entity';
import { WorkflowStepEntity } from '../persistence/workflow-step.entity';
import { WorkflowEntity } from '../persistence/workflow.entity';
import { WorkflowsService, type TaskResult } from './workflows.service';

const AGENT = 'batch-agent';

describe('WorkflowsService (real Postgres)', () => {
  const infra = testInfra();
  const schema = uniqueName('router_batch').replace(/[^a-z0-9_]/g, '_');
  let dataSource: DataSource;
  let service: WorkflowsService;

  beforeAll(async () => {
    dataSource = createServiceDataSource({
      url: infra.postgres.url,
      schema,
      entities: [WorkflowEntity, WorkflowStepEntity, WorkflowDefinitionEntity, AgentEntity],
      migrations: ROUTER_MIGRATIONS,
    });
    await initializeDataSource(dataSource);
    const config = loadRouterConfig({
      DATABASE_URL: infra.postgres.url,
      KAFKA_BROKERS: infra.kafka.brokers.join(','),
      ROUTER_DB_SCHEMA: schema,
      BATON_API_KEYS: 'batch-test-key-0123456789',
      // Agents announced mid-test are eligible at once.
      ROUTER_AGENT_CACHE_MS: '0',
    });
    // No relay here: what the transitions emit stays in the outbox table for the test to read.
    service = new WorkflowsService(dataSource, new Outbox(), new Inbox(), new AgentRegistry(dataSource, config), config);
    await dataSource.query(
      `INSERT INTO "${schema}".agents (agent_id, instance_id, team, capabilities, scopes, models, max_concurrency, reported_in_flight, started_at, last_seen_at)
       VALUES ($1, 'i', 'ops', ARRAY['work'], ARRAY[]::text[], ARRAY[]::text[], 100, 0, now(), now())`,
      [AGENT],
    );
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await dropTestSchema(infra.postgres.url, schema);
  });

  /** Branch `a` is two steps (a1 then a2), branch `b` one. */
  const twoBranches = (merge: 'first' | 'all', onBranchFailure: 'fail-fast' | 'best-effort'): WorkflowDefinitionInput => ({
    name: `batch-${merge}`,
    pattern: 'parallel',
    steps: [
      {
        id: 'p',
        branches: [
          {
            id: 'a',
            steps: [
              { id: 'a1', capability: 'work' },
              { id: 'a2', capability: 'work' },
            ],
          },
          { id: 'b', capability: 'work' },
        ],
        merge: { strategy: merge },
        onBranchFailure,
      },
    ],
  });

  async function start(definition: WorkflowDefinitionInput): Promise<{ workflowId: string; taskOf: (stepId: string) => string }> {
    const workflowId = randomUUID();
    await service.start({ workflowId, definition: workflowDefinitionSchema.parse(definition), input: {}, requestedBy: 'test' });
    const steps = await stepRows(workflowId);
    return {
      workflowId,
      taskOf: (stepId) => {
        const step = steps.find((row) => row.step_id === stepId);
        if (!step?.task_id) throw new Error(`step ${stepId} not dispatched: ${JSON.stringify(steps)}`);
        return step.task_id;
      },
    };
  }

  function stepRows(workflowId: string): Promise<Array<{ step_id: string; status: string; task_id: string | null }>> {
    return dataSource.query(`SELECT step_id, status, task_id FROM "${schema}".workflow_steps WHERE workflow_id = $1 ORDER BY position`, [
      workflowId,
    ]);
  }

  /** The steps of the messages of one type the workflow's transitions enqueued, in order. */
  async function emitted(workflowId: string, type: string): Promise<string[]> {
    const rows: Array<{ step_id: string }> = await dataSource.query(
      `SELECT m ->> 'stepId' AS step_id
         FROM (SELECT convert_from(value, 'UTF8')::jsonb AS e, seq FROM "${schema}".outbox_messages) AS o, LATERAL (SELECT e -> 'payload' AS m) AS p
        WHERE e ->> 'type' = $2 AND m ->> 'workflowId' = $1 ORDER BY seq`,
      [workflowId, type],
    );
    return rows.map((row) => row.step_id);
  }
  const assignedSteps = (workflowId: string): Promise<string[]> => emitted(workflowId, 'task.assigned');

  const ref = (workflowId: string, stepId: string, taskId: string) => ({ taskId, workflowId, stepId, attempt: 1, agentId: AGENT });
  const meta = (workflowId: string) => ({ source: 'test', correlationId: workflowId, workflowId });
  const completed = (workflowId: string, stepId: string, taskId: string): TaskResult => ({
    envelope: createEnvelope(
      taskCompleted,
      {
        ...ref(workflowId, stepId, taskId),
        output: stepId,
        confidence: 0.9,
        usage: { model: 'none', inputTokens: 0, outputTokens: 0, costUsd: 0 },
      },
      meta(workflowId),
    ) as Envelope<PayloadOf<typeof taskCompleted>>,
    traceContext: ROOT_CONTEXT,
  });
  const failed = (workflowId: string, stepId: string, taskId: string, retryable = false): TaskResult => ({
    envelope: createEnvelope(
      taskFailed,
      { ...ref(workflowId, stepId, taskId), error: { code: 'broken', message: 'no', retryable } },
      meta(workflowId),
    ) as Envelope<PayloadOf<typeof taskFailed>>,
    traceContext: ROOT_CONTEXT,
  });

  it('first: the step the first result readied and the second (the winner) cancelled is never dispatched', async () => {
    const { workflowId, taskOf } = await start(twoBranches('first', 'best-effort'));
    await service.onTaskResults([completed(workflowId, 'p:a:a1', taskOf('p:a:a1')), completed(workflowId, 'p:b', taskOf('p:b'))]);

    const workflow = await service.get(workflowId);
    expect({ status: workflow.status, output: workflow.output }).toEqual({ status: 'completed', output: 'p:b' });
    expect(await stepRows(workflowId)).toEqual([
      expect.objectContaining({ step_id: 'p:a:a1', status: 'completed' }),
      expect.objectContaining({ step_id: 'p:b', status: 'completed' }),
      expect.objectContaining({ step_id: 'p:a:a2', status: 'cancelled' }),
    ]);
    expect(await assignedSteps(workflowId)).toEqual(['p:a:a1', 'p:b']);
    expect(await emitted(workflowId, 'workflow.step.cancelled')).toEqual(['p:a:a2']);
  });

  it('fail-fast: after a failure in the same batch fails the workflow, the readied step is never dispatched', async () => {
    const { workflowId, taskOf } = await start(twoBranches('all', 'fail-fast'));
    await service.onTaskResults([completed(workflowId, 'p:a:a1', taskOf('p:a:a1')), failed(workflowId, 'p:b', taskOf('p:b'))]);

    expect((await service.get(workflowId)).status).toBe('failed');
    expect(await stepRows(workflowId)).toEqual([
      expect.objectContaining({ step_id: 'p:a:a1', status: 'completed' }),
      expect.objectContaining({ step_id: 'p:b', status: 'failed' }),
      expect.objectContaining({ step_id: 'p:a:a2', status: 'cancelled' }),
    ]);
    expect(await assignedSteps(workflowId)).toEqual(['p:a:a1', 'p:b']);
  });

  it('first: a losing branch waiting for its retry is cancelled, in the database and in the event log', async () => {
    const definition = twoBranches('first', 'best-effort');
    const { workflowId, taskOf } = await start({
      ...definition,
      steps: [
        {
          id: 'p',
          branches: [
            { id: 'a', capability: 'work', retry: { maxAttempts: 3, backoffMs: 60_000 } },
            { id: 'b', capability: 'work' },
          ],
          merge: { strategy: 'first' },
        },
      ],
    });
    await service.onTaskResults([failed(workflowId, 'p:a', taskOf('p:a'), true)]);
    expect(await stepRows(workflowId)).toContainEqual(expect.objectContaining({ step_id: 'p:a', status: 'retry_wait' }));

    await service.onTaskResults([completed(workflowId, 'p:b', taskOf('p:b'))]);
    expect((await service.get(workflowId)).status).toBe('completed');
    expect(await stepRows(workflowId)).toContainEqual(expect.objectContaining({ step_id: 'p:a', status: 'cancelled' }));
    expect(await emitted(workflowId, 'workflow.step.cancelled')).toEqual(['p:a']);
    // Nobody holds the waiting attempt: no agent is asked to stop it.
    expect(await emitted(workflowId, 'task.cancel_requested')).toEqual([]);
  });

  it('assigns a waiting step whose capability an agent now offers, ahead of older steps of a capability nobody serves', async () => {
    const single = (capability: string): WorkflowDefinitionInput => ({
      name: `wait-${capability}`,
      pattern: 'sequential',
      steps: [{ id: 's', capability }],
    });
    const unserved = `unserved-${randomUUID().slice(0, 8)}`;
    const late = `late-${randomUUID().slice(0, 8)}`;
    const older = [await start(single(unserved)), await start(single(unserved))];
    const waiting = await start(single(late));
    for (const { workflowId } of [...older, waiting]) {
      expect(await stepRows(workflowId)).toEqual([expect.objectContaining({ step_id: 's', status: 'waiting_for_agent' })]);
    }
    await dataSource.query(
      `INSERT INTO "${schema}".agents (agent_id, instance_id, team, capabilities, scopes, models, max_concurrency, reported_in_flight, started_at, last_seen_at)
       VALUES ($1, 'i', 'ops', ARRAY[$2], ARRAY[]::text[], ARRAY[]::text[], 10, 0, now(), now())`,
      [`agent-${late}`, late],
    );

    // One step per pass: the oldest waiting step an agent could take.
    expect(await service.assignWaiting(1)).toBe(1);
    expect(await stepRows(waiting.workflowId)).toEqual([expect.objectContaining({ step_id: 's', status: 'dispatched' })]);
    for (const { workflowId } of older) {
      expect(await stepRows(workflowId)).toEqual([expect.objectContaining({ step_id: 's', status: 'waiting_for_agent' })]);
    }
  });
});
