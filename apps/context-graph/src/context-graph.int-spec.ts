import { randomUUID } from 'node:crypto';
import neo4j from 'neo4j-driver';
import {
  type ContextQuery,
  type FactView,
  TOPICS,
  contextFactRecorded,
  contextQueryRequested,
  contextUpdated,
  createEnvelope,
  dlqTopic,
  parseEnvelope,
  stepCancelled,
  stepCompleted,
  stepDispatched,
  workflowCancelled,
} from '@baton/contracts';
import { KafkaBus } from '@baton/bus';
import { PostgresClaimStore } from '@baton/persistence';
import { expectEventually } from '@baton/testing';
import { migrateGraph } from './graph/neo4j';
import { GRAPH_MIGRATIONS } from './graph/graph-migrations';
import { Harness, READER_KEY, TRUSTED_KEY } from '../test/harness';

const h = new Harness();
const svc = (id: string) => ({ kind: 'Service', id });

beforeAll(async () => {
  await h.start((env) => Object.assign(process.env, env));
}, 120_000);

afterAll(async () => {
  await h.stop();
});

async function query(query: ContextQuery, scopes: string[], workflowId?: string) {
  const envelope = createEnvelope(
    contextQueryRequested,
    { query, scopes, caller: 'agent-test' },
    {
      source: 'cg-test',
      correlationId: workflowId ?? 'q',
      ...(workflowId !== undefined ? { workflowId } : {}),
    },
  );
  const reply = await h.bus.request(contextQueryRequested, envelope, { timeoutMs: 30_000 });
  return reply.envelope.payload as {
    ok: boolean;
    entities: unknown[];
    edges: { from: { id: string }; type: string; to: { id: string } }[];
    facts: FactView[];
    error?: { code: string; issues?: string[] };
  };
}

async function tasksInGraph(taskIds: string[]): Promise<number> {
  const driver = neo4j.driver(h.infra.neo4j.uri, neo4j.auth.basic(h.infra.neo4j.user, h.infra.neo4j.password));
  try {
    const result = await driver.executeQuery('MATCH (t:Task) WHERE t.taskId IN $taskIds RETURN count(t) AS n', { taskIds });
    return Number(result.records[0]?.get('n'));
  } finally {
    await driver.close();
  }
}

describe('graph model', () => {
  it('creates constraints, indexes and the full-text index at start-up, once', async () => {
    const driver = neo4j.driver(h.infra.neo4j.uri, neo4j.auth.basic(h.infra.neo4j.user, h.infra.neo4j.password));
    try {
      const constraints = await driver.executeQuery('SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names');
      expect(constraints.records[0]?.get('names')).toEqual(
        expect.arrayContaining(['context_entity_uid', 'context_fact_uid', 'context_task_uid', 'context_access_uid']),
      );
      const indexes = await driver.executeQuery('SHOW INDEXES YIELD name, type, state RETURN name, type, state');
      const byName = new Map(indexes.records.map((record) => [record.get('name') as string, record]));
      expect(byName.get('context_fact_text')?.get('type')).toBe('FULLTEXT');
      expect(byName.get('context_fact_text')?.get('state')).toBe('ONLINE');
      expect(byName.has('context_fact_about_time')).toBe(true);
      expect(await migrateGraph(driver, GRAPH_MIGRATIONS)).toEqual([]);
    } finally {
      await driver.close();
    }
  });

  it("lets several processes migrate a fresh server at once (the schema is the server's, not a namespace's)", async () => {
    const driver = neo4j.driver(h.infra.neo4j.uri, neo4j.auth.basic(h.infra.neo4j.user, h.infra.neo4j.password));
    // A migration of its own, so the schema it creates is new to the server even when the real ones exist.
    const tag = randomUUID().replace(/-/g, '').slice(0, 12);
    const version = 1_000_000 + Math.floor(Math.random() * 1_000_000);
    const migration = {
      version,
      name: `concurrency ${tag}`,
      statements: [
        `CREATE INDEX race_${tag} IF NOT EXISTS FOR (n:Race${tag}) ON (n.key)`,
        `CREATE FULLTEXT INDEX race_text_${tag} IF NOT EXISTS FOR (n:Race${tag}) ON EACH [n.text]`,
      ],
    };
    try {
      const runs = await Promise.allSettled(Array.from({ length: 6 }, () => migrateGraph(driver, [migration])));
      expect(runs.filter((run) => run.status === 'rejected')).toEqual([]);
      const indexes = await driver.executeQuery('SHOW INDEXES YIELD name WHERE name ENDS WITH $tag RETURN name', { tag });
      expect(indexes.records.map((record) => record.get('name') as string).sort()).toEqual([`race_${tag}`, `race_text_${tag}`]);
    } finally {
      await driver.executeQuery(`DROP INDEX race_${tag} IF EXISTS`);
      await driver.executeQuery(`DROP INDEX race_text_${tag} IF EXISTS`);
      await driver.executeQuery('MATCH (m:GraphMigration {version: $version}) DELETE m', { version });
      await driver.close();
    }
  });
});

describe('ingestion from baton.context.facts', () => {
  it('is idempotent by envelope id and keeps contradicting facts, most recent first', async () => {
    const proxy = svc(`proxy-${randomUUID().slice(0, 8)}`);
    const older = h.factEnvelope(
      { about: proxy, attribute: 'connection-pool.size', value: 50, confidence: 0.95 },
      { agentId: 'agent-a', occurredAt: new Date(Date.now() - 60_000).toISOString() },
    );
    const newer = h.factEnvelope({ about: proxy, attribute: 'connection-pool.size', value: 5, confidence: 0.7 }, { agentId: 'agent-b' });
    await h.publish(contextFactRecorded, older);
    await h.publish(contextFactRecorded, newer);
    await h.publish(contextFactRecorded, older);
    await h.publish(contextFactRecorded, newer);

    const facts = await expectEventually(async () => {
      const response = await h.http('GET', `/entities/Service:${proxy.id}`, { key: READER_KEY });
      const found = (response.body?.['facts'] ?? []) as FactView[];
      expect(found.map((fact) => fact.id)).toEqual([newer.id, older.id]);
      return found;
    });
    expect(facts[0]).toMatchObject({
      value: 5,
      confidence: 0.7,
      provenance: { agentId: 'agent-b', source: 'cg-test' },
    });
    expect(facts[1]).toMatchObject({ value: 50, provenance: { agentId: 'agent-a' } });
  });

  it('marks a superseded fact, surfaces the current one first and hides expired ones', async () => {
    const entity = svc(`sup-${randomUUID().slice(0, 8)}`);
    const first = h.factEnvelope({ about: entity, attribute: 'owner', value: 'team-a' });
    await h.publish(contextFactRecorded, first);
    // Expired facts are not returned by any read.
    await h.publish(
      contextFactRecorded,
      h.factEnvelope({
        about: entity,
        attribute: 'owner',
        value: 'team-x',
        validUntil: new Date(Date.now() - 1_000).toISOString(),
      }),
    );
    const second = h.factEnvelope(
      { about: entity, attribute: 'owner', value: 'team-b', supersedes: first.id },
      { occurredAt: new Date(Date.now() - 3_600_000).toISOString() },
    );
    await h.publish(contextFactRecorded, second);
    await expectEventually(async () => {
      const response = await h.http('GET', `/entities/Service:${entity.id}`, { key: READER_KEY });
      const found = (response.body?.['facts'] ?? []) as FactView[];
      expect(found.map((fact) => [fact.id, fact.supersededBy])).toEqual([
        [second.id, undefined],
        [first.id, second.id],
      ]);
    });
  });

  it('dead-letters a fact about an unknown kind, naming the field', async () => {
    const bad = h.factEnvelope({ about: { kind: 'Spaceship', id: 'enterprise' }, text: 'boldly' });
    await h.publish(contextFactRecorded, bad);
    const dead = await h.raw.readUntil(`${h.prefix}${dlqTopic(TOPICS.contextFacts)}`, (messages) =>
      messages.some((message) => message.value.toString('utf8').includes(bad.id)),
    );
    const record = dead.find((message) => message.value.toString('utf8').includes(bad.id));
    expect(record?.headers['baton-dlq-reason']).toMatch(/payload\.about\.kind: unknown entity kind Spaceship/);
  });
});

describe('ingestion from baton.system-events (CloudEvents)', () => {
  it('records a binary-mode event as a fact once, however often it is delivered, and dead-letters one naming no entity', async () => {
    const service = `deployed-${randomUUID().slice(0, 8)}`;
    const eventId = randomUUID();
    const headers = {
      ce_specversion: '1.0',
      ce_id: eventId,
      ce_source: '//ci/pipelines/42',
      ce_type: 'deployment.completed',
      ce_time: new Date().toISOString(),
      'content-type': 'application/json',
    };
    const value = JSON.stringify({ service, version: '2.4.1', changed: ['connection-pool.size'] });
    const topic = `${h.prefix}${TOPICS.systemEvents}`;
    await h.raw.produce(topic, [
      { key: service, value, headers },
      { key: service, value, headers },
      {
        key: 'nobody',
        value: JSON.stringify({ note: 'about nothing' }),
        headers: { ...headers, ce_id: randomUUID() },
      },
    ]);
    await expectEventually(async () => {
      const response = await h.http('GET', `/entities/Service:${service}`, { key: READER_KEY });
      expect(response.body?.['facts']).toEqual([
        expect.objectContaining({
          attribute: 'event.deployment.completed',
          value: { service, version: '2.4.1', changed: ['connection-pool.size'] },
          provenance: { source: '//ci/pipelines/42', sourceEvent: `//ci/pipelines/42#${eventId}` },
        }),
      ]);
    });
    const dead = await h.raw.readUntil(`${h.prefix}${dlqTopic(TOPICS.systemEvents)}`, (messages) => messages.length > 0);
    expect(dead[0]?.headers['baton-dlq-reason']).toMatch(/ce_entitykind: required/);
  });
});

describe('queries and scopes', () => {
  const tag = randomUUID().slice(0, 8);
  const checkout = svc(`checkout-${tag}`);
  const proxy = svc(`db-proxy-${tag}`);
  const db = svc(`db-${tag}`);
  const customer = { kind: 'Customer', id: `acme-${tag}` };
  const secretWord = `zebracorn${tag}`;
  let since = '';

  beforeAll(async () => {
    since = new Date(Date.now() - 1_000).toISOString();
    const envelopes = [
      h.factEnvelope({ about: checkout, relationship: { type: 'DEPENDS_ON', to: proxy } }),
      h.factEnvelope({ about: proxy, relationship: { type: 'DEPENDS_ON', to: db } }),
      h.factEnvelope({
        about: proxy,
        attribute: 'connection-pool.size',
        value: 5,
        text: `pool shrunk ${tag}`,
      }),
      h.factEnvelope({ about: db, attribute: 'cpu', value: 0.97, text: `db hot ${tag}` }),
      // Customer data: a relationship and a fact only customer-data holders may see.
      h.factEnvelope({
        about: customer,
        relationship: { type: 'DEPENDS_ON', to: checkout },
        scopes: ['customer-data'],
      }),
      h.factEnvelope({
        about: customer,
        attribute: 'arr',
        value: 1_200_000,
        text: `${secretWord} contract`,
        scopes: ['customer-data'],
      }),
      h.factEnvelope({
        about: checkout,
        attribute: 'top-customer',
        value: customer.id,
        text: `${secretWord} top customer`,
        scopes: ['customer-data'],
      }),
    ];
    for (const envelope of envelopes) await h.publish(contextFactRecorded, envelope);
    // The facts travel over several partitions, handled in no order between them: wait for all of them (every fact's
    // search text holds the ids it names, and so the tag).
    await expectEventually(async () => {
      expect((await query({ kind: 'search', text: secretWord, limit: 10 }, ['customer-data'])).facts).toHaveLength(2);
      expect((await query({ kind: 'search', text: tag, limit: 10 }, [])).facts).toHaveLength(4);
    });
  });

  it('answers a k-hop neighbourhood over Kafka request/reply', async () => {
    const one = await query({ kind: 'neighbourhood', entity: checkout, hops: 1, limit: 50 }, []);
    expect(one.ok).toBe(true);
    expect(one.edges.map((edge) => `${edge.from.id}-${edge.type}->${edge.to.id}`)).toEqual([`${checkout.id}-DEPENDS_ON->${proxy.id}`]);
    const two = await query({ kind: 'neighbourhood', entity: checkout, hops: 2, limit: 50 }, []);
    expect(two.edges.map((edge) => edge.to.id).sort()).toEqual([db.id, proxy.id].sort());
  });

  it('answers recent facts about an entity and what it depends on, and what changed around it', async () => {
    const recent = await query({ kind: 'recent', entity: checkout, windowMs: 600_000, hops: 2, limit: 50 }, []);
    expect(
      recent.facts
        .map((fact) => fact.attribute)
        .filter(Boolean)
        .sort(),
    ).toEqual(['connection-pool.size', 'cpu']);
    const changed = await query({ kind: 'changed', entity: db, since, hops: 2, limit: 50 }, []);
    expect(changed.facts.map((fact) => fact.about.id)).toEqual(expect.arrayContaining([db.id, proxy.id, checkout.id]));
    const later = await query({ kind: 'changed', entity: db, since: new Date(Date.now() + 60_000).toISOString(), hops: 2, limit: 50 }, []);
    expect(later.facts).toEqual([]);
  });

  it('hides customer-data facts and relationships from a caller without that scope, through every query form', async () => {
    const forms: ContextQuery[] = [
      { kind: 'neighbourhood', entity: checkout, hops: 3, limit: 100 },
      { kind: 'neighbourhood', entity: customer, hops: 3, limit: 100 },
      { kind: 'recent', entity: checkout, windowMs: 600_000, hops: 3, limit: 100 },
      { kind: 'recent', entity: customer, windowMs: 600_000, hops: 3, limit: 100 },
      { kind: 'changed', entity: checkout, since, hops: 3, limit: 100 },
      { kind: 'changed', entity: db, since, hops: 3, limit: 100 },
      { kind: 'search', text: secretWord, limit: 100 },
      { kind: 'search', text: customer.id, limit: 100 },
    ];
    const leaks = (answer: Awaited<ReturnType<typeof query>>) =>
      JSON.stringify(answer).includes(secretWord) ||
      JSON.stringify(answer).includes('customer-data') ||
      answer.edges.some((edge) => edge.from.id === customer.id);
    for (const form of forms) {
      const blind = await query(form, ['ops']);
      expect({ form, ok: blind.ok, leaks: leaks(blind) }).toEqual({ form, ok: true, leaks: false });
    }
    const http = [
      `/entities/Service:${checkout.id}`,
      `/entities/Customer:${customer.id}`,
      `/entities/Service:${checkout.id}/neighbourhood?hops=3`,
      `/entities/Customer:${customer.id}/neighbourhood?hops=3`,
      `/facts?about=Service:${checkout.id}&hops=3`,
      `/facts?about=Service:${db.id}&since=${encodeURIComponent(since)}&hops=3`,
      `/facts?q=${secretWord}`,
    ];
    for (const path of http) {
      const response = await h.http('GET', path, { key: READER_KEY });
      expect({
        path,
        status: response.status,
        leaks: JSON.stringify(response.body).includes(secretWord),
      }).toEqual({ path, status: 200, leaks: false });
      expect(JSON.stringify(response.body)).not.toContain('customer-data');
    }
    // The same queries with the scope do see them: the filter is the scope, not the query form.
    expect((await query({ kind: 'neighbourhood', entity: customer, hops: 1, limit: 10 }, ['customer-data'])).edges).toHaveLength(1);
    expect(
      (await query({ kind: 'recent', entity: checkout, windowMs: 600_000, hops: 1, limit: 50 }, ['customer-data'])).facts.some((fact) =>
        fact.text?.includes(secretWord),
      ),
    ).toBe(true);
    const trusted = await h.http('GET', `/facts?q=${secretWord}`, { key: TRUSTED_KEY });
    expect((trusted.body?.['facts'] as FactView[]).length).toBe(2);
  });

  it('rejects a query about an unknown kind with the field named', async () => {
    const answer = await query({ kind: 'neighbourhood', entity: { kind: 'Spaceship', id: 'x' }, hops: 1, limit: 5 }, []);
    expect(answer.ok).toBe(false);
    expect(answer.error?.issues).toEqual([expect.stringMatching(/^payload\.query\.entity\.kind: unknown entity kind Spaceship/)]);
  });

  it('rejects a whitespace-only search over HTTP with the field named (Lucene cannot parse it)', async () => {
    const response = await h.http('GET', '/facts?q=%20%20%20', { key: READER_KEY });
    expect(response).toEqual({
      status: 400,
      body: expect.objectContaining({
        error: 'validation_failed',
        issues: ['q: must contain something to search for, not only whitespace'],
      }),
    });
  });
});

describe('push to in-flight tasks', () => {
  it('reads a workflow event the router sent by claim check (a large step input), and tracks its task', async () => {
    const claims = await PostgresClaimStore.connect(h.infra.postgres.url, 'cg-test-claims');
    // The router's outbox sends payloads over its inline threshold by reference; a tiny threshold does the same here.
    const router = new KafkaBus({
      brokers: h.brokers,
      clientId: 'cg-test-router',
      topicPrefix: h.prefix,
      claimStore: claims,
      claimThresholdBytes: 1_024,
    });
    await router.connect();
    try {
      const workflowId = randomUUID();
      const taskId = randomUUID();
      const dispatched = createEnvelope(
        stepDispatched,
        {
          workflowId,
          stepId: 'read-the-log',
          taskId,
          attempt: 1,
          capability: 'diagnosis',
          input: { entities: [svc(`big-${taskId.slice(0, 8)}`)], log: 'x'.repeat(4_096) },
        },
        { source: 'router', correlationId: workflowId, workflowId },
      );
      await router.publish(stepDispatched, dispatched);
      const sent = await h.raw.readUntil(
        `${h.prefix}${TOPICS.workflowEvents}`,
        (messages) => messages.some((m) => m.value.includes(dispatched.id)),
        10_000,
      );
      expect(sent.find((m) => m.value.includes(dispatched.id))?.value.toString('utf8')).toContain('"payloadRef"');

      await expectEventually(async () => {
        const driver = neo4j.driver(h.infra.neo4j.uri, neo4j.auth.basic(h.infra.neo4j.user, h.infra.neo4j.password));
        try {
          const result = await driver.executeQuery('MATCH (t:Task {taskId: $taskId}) RETURN count(t) AS n', { taskId });
          expect(Number(result.records[0]?.get('n'))).toBe(1);
        } finally {
          await driver.close();
        }
      });
    } finally {
      await router.disconnect();
      await claims.close();
    }
  });

  it('sends a context update to a task whose entity depends on the entity a new fact is about', async () => {
    const tag = randomUUID().slice(0, 8);
    const y = svc(`y-${tag}`);
    const x = svc(`x-${tag}`);
    const workflowId = randomUUID();
    const taskId = randomUUID();
    await h.publish(contextFactRecorded, h.factEnvelope({ about: y, relationship: { type: 'DEPENDS_ON', to: x } }));
    const meta = { source: 'router', correlationId: workflowId, workflowId };
    await h.publish(
      stepDispatched,
      createEnvelope(
        stepDispatched,
        {
          workflowId,
          stepId: 'diagnose',
          taskId,
          attempt: 1,
          capability: 'diagnosis',
          input: { entities: [y] },
        },
        meta,
      ),
    );
    // The fact must land after the task is known; poll until it produced an update.
    const fact = h.factEnvelope({ about: x, attribute: 'connection-pool.size', value: 5 }, { agentId: 'agent-a' });
    const unrelated = h.factEnvelope({ about: svc(`z-${tag}`), attribute: 'noise', value: 1 });
    await expectEventually(
      async () => {
        const retry = { ...fact, id: randomUUID() };
        await h.publish(contextFactRecorded, retry);
        await h.publish(contextFactRecorded, unrelated);
        const updates = await h.raw.readUntil(`${h.prefix}${TOPICS.contextUpdates}`, (messages) => messages.length > 0, 3_000);
        const mine = updates
          .map((record) => parseEnvelope(TOPICS.contextUpdates, record.value).envelope)
          .filter((envelope) => {
            const payload = envelope.payload as { taskId: string; fact: { about: { id: string } } };
            return payload.taskId === taskId && payload.fact.about.id === x.id;
          });
        expect(mine.length).toBeGreaterThan(0);
        expect(mine[0]?.payload).toMatchObject({
          workflowId,
          stepId: 'diagnose',
          entity: y,
          via: [x],
          fact: { about: x, attribute: 'connection-pool.size', value: 5 },
        });
        expect(mine[0]?.type).toBe(contextUpdated.type);
        expect(updates.some((record) => record.value.toString('utf8').includes(unrelated.id))).toBe(false);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );

    // Once the step completed, the task is no longer in flight.
    await h.publish(
      stepCompleted,
      createEnvelope(stepCompleted, { workflowId, stepId: 'diagnose', taskId, attempt: 1, agentId: 'b', output: {}, confidence: 1 }, meta),
    );
    await expectEventually(async () => {
      const driver = neo4j.driver(h.infra.neo4j.uri, neo4j.auth.basic(h.infra.neo4j.user, h.infra.neo4j.password));
      try {
        const result = await driver.executeQuery('MATCH (t:Task {taskId: $taskId}) RETURN count(t) AS n', {
          taskId,
        });
        expect(Number(result.records[0]?.get('n'))).toBe(0);
      } finally {
        await driver.close();
      }
    });
  });

  it('forgets a task whose attempt was cancelled, and every task of a cancelled workflow', async () => {
    const tag = randomUUID().slice(0, 8);
    const dispatch = (workflowId: string, stepId: string, taskId: string) =>
      createEnvelope(
        stepDispatched,
        { workflowId, stepId, taskId, attempt: 1, capability: 'diagnosis', input: { entities: [svc(`c-${tag}`)] } },
        { source: 'router', correlationId: workflowId, workflowId },
      );

    // A timed-out attempt: the router cancels it and retries under a new task id, so the old one never ends otherwise.
    const timedOut = { workflowId: randomUUID(), taskId: randomUUID() };
    await h.publish(stepDispatched, dispatch(timedOut.workflowId, 'diagnose', timedOut.taskId));
    await expectEventually(async () => expect(await tasksInGraph([timedOut.taskId])).toBe(1));
    await h.publish(
      stepCancelled,
      createEnvelope(
        stepCancelled,
        { ...timedOut, stepId: 'diagnose', attempt: 1, reason: 'timed_out' },
        { source: 'router', correlationId: timedOut.workflowId, workflowId: timedOut.workflowId },
      ),
    );
    await expectEventually(async () => expect(await tasksInGraph([timedOut.taskId])).toBe(0));

    // POST /workflows/:id/cancel: the workflow's tasks in flight are forgotten together.
    const workflowId = randomUUID();
    const taskIds = [randomUUID(), randomUUID()];
    await h.publish(stepDispatched, dispatch(workflowId, 'diagnose', taskIds[0] as string));
    await h.publish(stepDispatched, dispatch(workflowId, 'remediate', taskIds[1] as string));
    await expectEventually(async () => expect(await tasksInGraph(taskIds)).toBe(2));
    await h.publish(
      workflowCancelled,
      createEnvelope(
        workflowCancelled,
        { workflowId, reason: 'no longer needed', requestedBy: 'cg-test' },
        { source: 'router', correlationId: workflowId, workflowId },
      ),
    );
    await expectEventually(async () => expect(await tasksInGraph(taskIds)).toBe(0));
  });
});

describe('HTTP', () => {
  const cypher = `x') MATCH (n) DETACH DELETE n //`;

  it('requires an API key', async () => {
    expect((await h.http('GET', '/facts?q=anything')).status).toBe(401);
  });

  it('records a fact with POST /facts idempotently by id, and exports what a workflow read and wrote', async () => {
    const workflowId = randomUUID();
    const id = randomUUID();
    const entity = svc(`http-${id.slice(0, 8)}`);
    const body = {
      id,
      workflowId,
      agentId: 'agent-h',
      fact: { about: entity, attribute: 'version', value: '1.2.3', confidence: 1 },
    };
    const first = await h.http('POST', '/facts', { key: READER_KEY, body });
    expect(first).toEqual({ status: 201, body: { id, created: true } });
    expect(await h.http('POST', '/facts', { key: READER_KEY, body })).toEqual({
      status: 201,
      body: { id, created: false },
    });

    const read = await h.http('GET', `/entities/Service:${entity.id}/neighbourhood?hops=1`, {
      key: READER_KEY,
      headers: { 'x-baton-workflow-id': workflowId },
    });
    expect(read.status).toBe(200);
    const exported = await h.http('GET', `/workflows/${workflowId}/context`, { key: READER_KEY });
    expect(exported.status).toBe(200);
    expect((exported.body?.['wrote'] as FactView[]).map((fact) => fact.id)).toEqual([id]);
    expect(exported.body?.['read']).toEqual([
      expect.objectContaining({ query: expect.objectContaining({ kind: 'neighbourhood' }), factIds: [id] }),
    ]);
    expect(exported.body?.['truncated']).toEqual({ wrote: false, read: false });
  });

  it("exports only what the caller's key may read: customer-data facts, and reads made with that scope, need it", async () => {
    const workflowId = randomUUID();
    const tag = randomUUID().slice(0, 8);
    const secretWord = `quokkafin${tag}`;
    const entity = svc(`export-${tag}`);
    const open = randomUUID();
    const secret = randomUUID();
    const write = async (id: string, fact: Record<string, unknown>) =>
      expect(
        (await h.http('POST', '/facts', { key: READER_KEY, body: { id, workflowId, fact: { about: entity, confidence: 1, ...fact } } }))
          .status,
      ).toBe(201);
    await write(open, { attribute: 'version', value: '2.0.0' });
    await write(secret, { attribute: 'top-customer', value: `acme ${secretWord}`, text: secretWord, scopes: ['customer-data'] });
    // One read without a scope, one with customer-data that found the customer-data fact.
    const attributed = { 'x-baton-workflow-id': workflowId };
    expect((await h.http('GET', `/entities/Service:${entity.id}`, { key: READER_KEY, headers: attributed })).status).toBe(200);
    const found = await h.http('GET', `/facts?q=${secretWord}`, { key: TRUSTED_KEY, headers: attributed });
    expect((found.body?.['facts'] as FactView[]).map((fact) => fact.id)).toEqual([secret]);

    const reader = await h.http('GET', `/workflows/${workflowId}/context`, { key: READER_KEY });
    expect(reader.status).toBe(200);
    expect((reader.body?.['wrote'] as FactView[]).map((fact) => fact.id)).toEqual([open]);
    expect(reader.body?.['read']).toEqual([expect.objectContaining({ scopes: [], factIds: [open] })]);
    for (const hidden of [secretWord, secret, 'customer-data']) expect(JSON.stringify(reader.body)).not.toContain(hidden);

    const trusted = await h.http('GET', `/workflows/${workflowId}/context`, { key: TRUSTED_KEY });
    expect((trusted.body?.['wrote'] as FactView[]).map((fact) => fact.id).sort()).toEqual([open, secret].sort());
    expect(trusted.body?.['wrote']).toContainEqual(expect.objectContaining({ id: secret, value: `acme ${secretWord}` }));
    expect(trusted.body?.['read']).toHaveLength(2);
    expect(trusted.body?.['read']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ scopes: [], factIds: [open] }),
        expect.objectContaining({ scopes: ['customer-data'], query: expect.objectContaining({ text: secretWord }), factIds: [secret] }),
      ]),
    );
    expect(trusted.body?.['truncated']).toEqual({ wrote: false, read: false });

    // Bounded: each list holds at most `limit` entries, and says when it held more.
    const cut = await h.http('GET', `/workflows/${workflowId}/context?limit=1`, { key: TRUSTED_KEY });
    expect({ wrote: (cut.body?.['wrote'] as unknown[]).length, read: (cut.body?.['read'] as unknown[]).length }).toEqual({
      wrote: 1,
      read: 1,
    });
    expect(cut.body?.['truncated']).toEqual({ wrote: true, read: true });
    const tooMany = await h.http('GET', `/workflows/${workflowId}/context?limit=501`, { key: TRUSTED_KEY });
    expect({ status: tooMany.status, issues: tooMany.body?.['issues'] }).toEqual({
      status: 400,
      issues: [expect.stringMatching(/^limit: /)],
    });

    // A read attributed to something no export can take (not a uuid) is refused, naming the header.
    for (const path of [`/entities/Service:${entity.id}`, `/entities/Service:${entity.id}/neighbourhood`, `/facts?q=${secretWord}`]) {
      const refused = await h.http('GET', path, { key: TRUSTED_KEY, headers: { 'x-baton-workflow-id': `wf-${tag}` } });
      expect({ path, status: refused.status, issues: refused.body?.['issues'] }).toEqual({
        path,
        status: 400,
        issues: ['X-Baton-Workflow-Id: must be a uuid'],
      });
    }
  });

  it('stores Cypher-looking strings in every field as data', async () => {
    const entityId = `inj-${randomUUID().slice(0, 8)}`;
    const response = await h.http('POST', '/facts', {
      key: READER_KEY,
      body: {
        agentId: cypher,
        workflowId: cypher,
        fact: {
          about: { kind: 'Service', id: entityId },
          attribute: 'config.injected',
          value: { [cypher]: cypher, list: [cypher] },
          text: `${cypher} RETURN 1; CALL dbms.killQueries([]) "}{`,
          confidence: 0.5,
          sourceEvent: cypher,
        },
      },
    });
    expect(response.status).toBe(201);
    const entity = await h.http('GET', `/entities/Service:${entityId}`, { key: READER_KEY });
    expect((entity.body?.['facts'] as FactView[])[0]).toMatchObject({
      value: { [cypher]: cypher, list: [cypher] },
      provenance: { agentId: cypher, workflowId: cypher, sourceEvent: cypher },
    });
    // Lucene syntax in a search is searched for, not interpreted.
    const search = await h.http('GET', `/facts?q=${encodeURIComponent(`${cypher} AND (* OR "`)}`, {
      key: READER_KEY,
    });
    expect(search.status).toBe(200);
    // The graph is still there.
    expect((await h.http('GET', `/entities/Service:${entityId}`, { key: READER_KEY })).status).toBe(200);
  });

  it('rejects unknown kinds, malformed relationships and oversized values with the field named, writing nothing', async () => {
    const entityId = `bad-${randomUUID().slice(0, 8)}`;
    const cases: [unknown, RegExp][] = [
      [
        { fact: { about: { kind: 'Spaceship', id: entityId }, text: 't', confidence: 1 } },
        /^fact\.about\.kind: unknown entity kind Spaceship/,
      ],
      [
        { fact: { about: svc(entityId), relationship: { type: 'LIKES', to: svc('b') }, confidence: 1 } },
        /^fact\.relationship\.type: unknown relationship type LIKES/,
      ],
      [
        { fact: { about: svc(entityId), relationship: { type: 'depends on', to: svc('b') }, confidence: 1 } },
        /^fact\.relationship\.type: must be an UPPER_SNAKE/,
      ],
      [{ fact: { about: svc(entityId), relationship: { type: 'DEPENDS_ON' }, confidence: 1 } }, /^fact\.relationship\.to: /],
      [
        {
          fact: {
            about: svc(entityId),
            relationship: { type: 'DEPENDS_ON', to: svc(entityId) },
            confidence: 1,
          },
        },
        /^fact\.relationship\.to: an entity cannot be related to itself/,
      ],
      [
        { fact: { about: svc(entityId), attribute: 'a', value: 'v'.repeat(20_000), confidence: 1 } },
        /^fact\.value: must be at most 16384 characters/,
      ],
      [{ fact: { about: { kind: 'Service', id: cypher }, text: 't', confidence: 1 } }, /^fact\.about\.id: must be letters/],
      [{ fact: { about: svc(entityId), attribute: 'MATCH (n) RETURN n', value: 1, confidence: 1 } }, /^fact\.attribute: must be letters/],
    ];
    for (const [body, issue] of cases) {
      const response = await h.http('POST', '/facts', { key: READER_KEY, body });
      expect({ status: response.status, error: response.body?.['error'] }).toEqual({
        status: 400,
        error: 'validation_failed',
      });
      expect(response.body?.['issues']).toEqual(expect.arrayContaining([expect.stringMatching(issue)]));
    }
    expect((await h.http('POST', '/facts', { key: READER_KEY, rawBody: '{"fact":' })).status).toBe(400);
    expect(
      (
        await h.http('POST', '/facts', {
          key: READER_KEY,
          rawBody: JSON.stringify({ pad: 'x'.repeat(70_000) }),
        })
      ).status,
    ).toBe(413);
    expect((await h.http('GET', `/entities/Service:${entityId}`, { key: READER_KEY })).status).toBe(404);
    expect((await h.http('GET', `/facts?about=nokind&hops=9`, { key: READER_KEY })).body?.['issues']).toEqual([
      expect.stringMatching(/^about: must be <Kind>:<id>/),
      expect.stringMatching(/^hops: /),
    ]);
  });
});
