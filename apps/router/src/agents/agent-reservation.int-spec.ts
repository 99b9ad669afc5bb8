/**
 * Agent slot reservation on real Postgres: many transitions reserving at the
 * same moment never give an agent more open assignments than its max
 * concurrency, and they spread over agents instead of queueing on one.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { DataSource, EntityManager } from 'typeorm';
import { createServiceDataSource, initializeDataSource } from '@baton/persistence';
import { dropTestSchema, testInfra, uniqueName } from '@baton/testing';
import { loadRouterConfig } from '../config/router-config';
import { AgentEntity } from '../persistence/agent.entity';
import { ROUTER_MIGRATIONS } from '../persistence/migrations/router-migrations';
import { WorkflowDefinitionEntity } from '../persistence/workflow-definition.entity';
import { WorkflowStepEntity } from '../persistence/workflow-step.entity';
import { WorkflowEntity } from '../persistence/workflow.entity';
import { AgentRegistry, type AgentAssignments } from './agent-registry.service';
import type { Assignment } from './assignment';

describe('agent slot reservation on real Postgres', () => {
  const infra = testInfra();
  const schema = uniqueName('router_reserve').replace(/[^a-z0-9_]/g, '_');
  let dataSource: DataSource;
  let registry: AgentRegistry;
  const workflowId = randomUUID();

  beforeAll(async () => {
    dataSource = createServiceDataSource({
      url: infra.postgres.url,
      schema,
      poolSize: 30,
      entities: [WorkflowEntity, WorkflowStepEntity, WorkflowDefinitionEntity, AgentEntity],
      migrations: ROUTER_MIGRATIONS,
    });
    await initializeDataSource(dataSource);
    const config = loadRouterConfig({
      DATABASE_URL: infra.postgres.url,
      KAFKA_BROKERS: infra.kafka.brokers.join(','),
      ROUTER_DB_SCHEMA: schema,
      BATON_API_KEYS: 'reserve-test-key-0123456789',
    });
    registry = new AgentRegistry(dataSource, config);
    await dataSource.query(
      `INSERT INTO "${schema}".workflows (id, name, definition, input, status, correlation_id, requested_by)
       VALUES ($1, 'reserve', '{}', '{}', 'running', $2, 'test')`,
      [workflowId, workflowId],
    );
    for (const agentId of ['agent-a', 'agent-b']) {
      await dataSource.query(
        `INSERT INTO "${schema}".agents (agent_id, instance_id, team, capabilities, scopes, models, max_concurrency, reported_in_flight, started_at, last_seen_at)
         VALUES ($1, 'i', 'ops', ARRAY['triage'], ARRAY[]::text[], ARRAY[]::text[], 3, 0, now(), now())`,
        [agentId],
      );
    }
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await dropTestSchema(infra.postgres.url, schema);
  });

  /** Queues one request per task and reserves them together, as a transaction's write does. */
  async function reserveAll(assignments: AgentAssignments, count: number): Promise<Assignment[]> {
    const settled: Assignment[] = [];
    for (let i = 0; i < count; i += 1) assignments.request({ capability: 'triage' }, new Set(), (choice) => settled.push(choice));
    await assignments.flush();
    return settled;
  }

  /** One transition: reserve, hold the transaction open a while (widening any race), then write the dispatched step. */
  async function dispatchOne(index: number): Promise<string | undefined> {
    return dataSource.transaction(async (manager: EntityManager) => {
      const [choice] = await reserveAll(registry.assignments(manager), 1);
      if (!choice) throw new Error('request not settled');
      if ('reason' in choice) return undefined;
      await delay(50);
      await manager.query(
        `INSERT INTO "${schema}".workflow_steps (workflow_id, step_id, position, capability, status, attempt, agent_id)
         VALUES ($1, $2, $3, 'triage', 'dispatched', 1, $4)`,
        [workflowId, `s${index}`, index, choice.agentId],
      );
      return choice.agentId;
    });
  }

  it('gives no agent more than its max concurrency however many reserve at once, and uses both agents', async () => {
    const chosen = await Promise.all(Array.from({ length: 20 }, (_, i) => dispatchOne(i)));
    const open: Array<{ agent_id: string; count: string }> = await dataSource.query(
      `SELECT agent_id, count(*) AS count FROM "${schema}".workflow_steps WHERE status = 'dispatched' GROUP BY agent_id ORDER BY agent_id`,
    );
    expect(open.map((row) => [row.agent_id, Number(row.count)])).toEqual([
      ['agent-a', 3],
      ['agent-b', 3],
    ]);
    expect(chosen.filter((agentId) => agentId !== undefined)).toHaveLength(6);
  });

  it('reserves many requests in one call least loaded first, counting what it and earlier flushes reserved but nobody wrote yet', async () => {
    await dataSource.query(`DELETE FROM "${schema}".workflow_steps`);
    const reserved = await dataSource.transaction(async (manager) => {
      const assignments = registry.assignments(manager);
      const first = await reserveAll(assignments, 5);
      expect(first).toEqual([
        { agentId: 'agent-a' },
        { agentId: 'agent-b' },
        { agentId: 'agent-a' },
        { agentId: 'agent-b' },
        { agentId: 'agent-a' },
      ]);
      return [...first, ...(await reserveAll(assignments, 3))];
    });
    const agents = reserved.map((choice) => ('agentId' in choice ? choice.agentId : 'none'));
    expect(agents.filter((id) => id === 'agent-a')).toHaveLength(3);
    expect(agents.filter((id) => id === 'agent-b')).toHaveLength(3);
    expect(reserved.slice(6)).toEqual([
      { reason: expect.stringContaining('max concurrency') },
      { reason: expect.stringContaining('max concurrency') },
    ]);
  });
});
