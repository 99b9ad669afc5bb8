// The raw client proves the broker itself works, independently of @baton/bus.
// eslint-disable-next-line no-restricted-imports
import { Kafka, logLevel } from 'kafkajs';
import neo4j from 'neo4j-driver';
import { Client } from 'pg';

import { createTestSchema, dropTestSchema, urlWithSearchPath } from '../postgres/test-schema';
import { clearNeo4jPrefix } from '../neo4j/neo4j-isolation';
import { uniqueName } from '../isolation/unique-name';
import { expectEventually } from '../wait/expect-eventually';
import { testInfra } from './test-infra';

describe('resolved infrastructure', () => {
  const infra = testInfra();

  it('exports all endpoints to the workers', () => {
    expect(infra.kafka.brokers.length).toBeGreaterThan(0);
    expect(infra.postgres.url).toMatch(/^postgres:\/\//);
    expect(infra.neo4j.uri).toMatch(/^bolt:\/\//);
  });

  it('Kafka accepts a produce and a consumer group reads it back', async () => {
    const kafka = new Kafka({ clientId: uniqueName('testing-'), brokers: infra.kafka.brokers, logLevel: logLevel.NOTHING });
    const topic = `${uniqueName('t-')}.probe`;
    const admin = kafka.admin();
    const producer = kafka.producer();
    const consumer = kafka.consumer({ groupId: uniqueName('g-') });
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: false });
      // A busy broker may briefly deny hosting a partition it just created; ask until all have leaders.
      await expectEventually(
        async () => {
          const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
          expect(topics[0]?.partitions.filter((partition) => partition.leader >= 0)).toHaveLength(3);
        },
        { timeoutMs: 30_000 },
      );
      await producer.connect();
      await producer.send({
        topic,
        messages: [
          { key: 'k1', value: 'hello' },
          { key: 'k2', value: 'world' },
        ],
      });
      const received: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          received.push(message.value?.toString() ?? '');
        },
      });
      // Delivery is at least once: a rebalance on a busy broker may hand a message over again before its offset is committed.
      await expectEventually(() => expect([...new Set(received)].sort()).toEqual(['hello', 'world']), { timeoutMs: 30_000 });
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  it('Postgres answers select 1 and a test schema exists until dropped', async () => {
    const schema = await createTestSchema(infra.postgres.url);
    expect(schema).toMatch(/^t_[a-z0-9]{10}$/);
    const client = new Client({ connectionString: urlWithSearchPath(infra.postgres.url, schema) });
    await client.connect();
    try {
      const one = await client.query<{ one: number }>('select 1 as one');
      expect(one.rows[0]?.one).toBe(1);
      const found = await client.query('select 1 from information_schema.schemata where schema_name = $1', [schema]);
      expect(found.rowCount).toBe(1);
      await client.query('create table probe (id int primary key)');
      const where = await client.query<{ table_schema: string }>(
        "select table_schema from information_schema.tables where table_name = 'probe' and table_schema = $1",
        [schema],
      );
      expect(where.rows[0]?.table_schema).toBe(schema);
    } finally {
      await client.end();
      await dropTestSchema(infra.postgres.url, schema);
    }
    const check = new Client({ connectionString: infra.postgres.url });
    await check.connect();
    try {
      const gone = await check.query('select 1 from information_schema.schemata where schema_name = $1', [schema]);
      expect(gone.rowCount).toBe(0);
    } finally {
      await check.end();
    }
  });

  it('Neo4j answers RETURN 1 through the driver and clears a test prefix', async () => {
    const driver = neo4j.driver(infra.neo4j.uri, neo4j.auth.basic(infra.neo4j.user, infra.neo4j.password));
    const prefix = uniqueName('T');
    try {
      const one = await driver.executeQuery('RETURN 1 AS one');
      expect(one.records[0]?.get('one').toNumber()).toBe(1);
      await driver.executeQuery(`CREATE (:${prefix}_Agent {id: $a})-[:OWNS]->(:Task {id: $b}), (:Other {id: 'keep-me'})`, {
        a: `${prefix}-a`,
        b: `${prefix}-b`,
      });
      expect(await clearNeo4jPrefix(prefix)).toBe(2);
      const left = await driver.executeQuery('MATCH (n) WHERE n.id STARTS WITH $p RETURN count(n) AS c', { p: prefix });
      expect(left.records[0]?.get('c').toNumber()).toBe(0);
    } finally {
      await driver.executeQuery("MATCH (n:Other {id: 'keep-me'}) DELETE n");
      await driver.close();
    }
  });
});
