import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createEnvelope, type Envelope, type PayloadOf, workflowCompleted } from '@baton/contracts';
import { Inbox, initializeDataSource, Outbox, pruneInbox, qualifiedName } from '../src/index';
import { eventually } from '../src/testing/eventually';
import { countRows, createTestDataSource, insertEffect } from '../src/testing/test-orders';
import { dropSchema, uniqueSchema } from '../src/testing/test-schema';

const url = process.env['DATABASE_URL'] ?? '';

function newEnvelope(): Envelope<PayloadOf<typeof workflowCompleted>> {
  return createEnvelope(
    workflowCompleted,
    { workflowId: randomUUID(), output: 'done' },
    { source: 'inbox-test', correlationId: randomUUID() },
  );
}

describe('Inbox.handleOnce on real Postgres', () => {
  const schema = uniqueSchema('inbox');
  const inbox = new Inbox();
  let dataSource: DataSource;

  const effects = (envelopeId: string, consumer = 'router'): Promise<number> =>
    countRows(dataSource, 'test_effects', 'envelope_id = $1 AND consumer = $2', [envelopeId, consumer]);
  const claims = (envelopeId: string): Promise<number> => countRows(dataSource, 'inbox_messages', 'envelope_id = $1', [envelopeId]);

  beforeAll(async () => {
    dataSource = await initializeDataSource(createTestDataSource(url, schema, 'inbox-test'));
  });

  afterAll(async () => {
    await dataSource.destroy();
    await dropSchema(url, schema);
  });

  it("claimMany returns only the ids not handled before (in the caller's spelling), and its claims roll back with the transaction", async () => {
    const seen = randomUUID();
    await dataSource.transaction((manager) => inbox.claimMany(manager, 'batch', [seen]));
    const fresh = randomUUID().toUpperCase();
    const claimed = await dataSource.transaction((manager) => inbox.claimMany(manager, 'batch', [seen, fresh, fresh]));
    expect([...claimed]).toEqual([fresh]);

    const rolledBack = randomUUID();
    await expect(
      dataSource.transaction(async (manager) => {
        await inbox.claimMany(manager, 'batch', [rolledBack]);
        throw new Error('effect failed');
      }),
    ).rejects.toThrow('effect failed');
    expect(await claims(rolledBack)).toBe(0);
    await expect(inbox.claimMany(dataSource.manager, 'batch', [randomUUID()])).rejects.toThrow('open transaction');
  });

  it("claimManyAndRead claims like claimMany and returns the read's rows (locked) from the same statement", async () => {
    const things = qualifiedName(schema, 'claim_read_things');
    await dataSource.query(`CREATE TABLE ${things} (id uuid PRIMARY KEY, label text NOT NULL)`);
    const [a, b, other] = [randomUUID(), randomUUID(), randomUUID()];
    await dataSource.query(`INSERT INTO ${things} VALUES ($1, 'a'), ($2, 'b'), ($3, 'other')`, [a, b, other]);
    const read = (ids: string[], label: string) => ({
      sql: `SELECT id, label FROM ${things} WHERE id = ANY($1::uuid[]) AND label <> $2 ORDER BY id FOR UPDATE`,
      values: [ids, label],
    });
    const seen = randomUUID();
    await dataSource.transaction((manager) => inbox.claimMany(manager, 'read-batch', [seen]));
    const fresh = randomUUID().toUpperCase();

    await dataSource.transaction(async (manager) => {
      const result = await inbox.claimManyAndRead<{ id: string; label: string }>(
        manager,
        'read-batch',
        [seen, fresh],
        read([a, b, other], 'other'),
      );
      expect([...result.fresh]).toEqual([fresh]);
      expect(result.rows).toEqual(
        [
          { id: a, label: 'a' },
          { id: b, label: 'b' },
        ].sort((x, y) => x.id.localeCompare(y.id)),
      );
      // The rows are locked by this transaction; one that is not read is not.
      const probe = dataSource.createQueryRunner();
      try {
        await expect(probe.query(`SELECT 1 FROM ${things} WHERE id = $1 FOR UPDATE NOWAIT`, [a])).rejects.toThrow(/could not obtain lock/);
        expect(await probe.query(`SELECT 1 AS one FROM ${things} WHERE id = $1 FOR UPDATE NOWAIT`, [other])).toEqual([{ one: 1 }]);
      } finally {
        await probe.release();
      }
    });
    expect(await claims(fresh.toLowerCase())).toBe(1);

    // A read that finds nothing still claims and reports the fresh ids; a rollback takes the claims back.
    const lonely = randomUUID();
    const empty = await dataSource.transaction((manager) =>
      inbox.claimManyAndRead(manager, 'read-batch', [lonely, fresh], read([randomUUID()], '')),
    );
    expect(empty).toEqual({ fresh: new Set([lonely]), rows: [] });
    const rolledBack = randomUUID();
    await expect(
      dataSource.transaction(async (manager) => {
        await inbox.claimManyAndRead(manager, 'read-batch', [rolledBack], read([a], ''));
        throw new Error('effect failed');
      }),
    ).rejects.toThrow('effect failed');
    expect(await claims(rolledBack)).toBe(0);
    await expect(inbox.claimManyAndRead(dataSource.manager, 'read-batch', [randomUUID()], read([a], ''))).rejects.toThrow(
      'open transaction',
    );
  });

  it('runs the effect once; a redelivered envelope is acknowledged without a second effect', async () => {
    const envelope = newEnvelope();
    const first = await inbox.handleOnce(dataSource, 'router', envelope, async (manager) => {
      await insertEffect(manager, envelope.id, 'router', 'first delivery');
      return 'applied';
    });
    let secondRan = false;
    const second = await inbox.handleOnce(dataSource, 'router', envelope, async (manager) => {
      secondRan = true;
      await insertEffect(manager, envelope.id, 'router', 'redelivery');
    });

    expect(first).toEqual({ handled: true, result: 'applied' });
    expect(second).toEqual({ handled: false });
    expect(secondRan).toBe(false);
    expect(await effects(envelope.id)).toBe(1);
  });

  it('keeps consumers apart: each consumer handles the same envelope once', async () => {
    const envelope = newEnvelope();
    for (const consumer of ['router', 'governance', 'router', 'governance']) {
      await inbox.handleOnce(dataSource, consumer, envelope, (manager) => insertEffect(manager, envelope.id, consumer, 'x'));
    }
    expect(await effects(envelope.id, 'router')).toBe(1);
    expect(await effects(envelope.id, 'governance')).toBe(1);
  });

  it('makes a concurrent duplicate wait for the first handler, then skip its effect', async () => {
    const envelope = newEnvelope();
    let duplicateRan = false;
    let firstStarted!: () => void;
    const firstInsideEffect = new Promise<void>((resolve) => (firstStarted = resolve));

    const first = inbox.handleOnce(dataSource, 'router', envelope, async (manager) => {
      await insertEffect(manager, envelope.id, 'router', 'first');
      firstStarted();
      // Keep this transaction open until the duplicate is provably blocked on the inbox key.
      await eventually('the duplicate to wait on the inbox primary key', async () => {
        const waiting: unknown[] = await dataSource.query(
          `SELECT pid FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`,
          [`%${qualifiedName(schema, 'inbox_messages')}%`],
        );
        return waiting.length > 0 ? true : undefined;
      });
      return 'first';
    });
    await firstInsideEffect;
    const duplicate = inbox.handleOnce(dataSource, 'router', envelope, async (manager) => {
      duplicateRan = true;
      await insertEffect(manager, envelope.id, 'router', 'duplicate');
    });

    expect(await first).toEqual({ handled: true, result: 'first' });
    expect(await duplicate).toEqual({ handled: false });
    expect(duplicateRan).toBe(false);
    expect(await effects(envelope.id)).toBe(1);
  });

  it('rolls back the effect and the claim when the effect throws, so a redelivery handles it', async () => {
    const envelope = newEnvelope();
    const outbox = new Outbox();
    const caused = newEnvelope();

    await expect(
      inbox.handleOnce(dataSource, 'router', envelope, async (manager) => {
        await insertEffect(manager, envelope.id, 'router', 'half done');
        await outbox.enqueue(manager, workflowCompleted, caused);
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    expect(await effects(envelope.id)).toBe(0);
    expect(await claims(envelope.id)).toBe(0);
    expect(await countRows(dataSource, 'outbox_messages', 'id = $1', [caused.id])).toBe(0);

    const redelivery = await inbox.handleOnce(dataSource, 'router', envelope, async (manager) => {
      await insertEffect(manager, envelope.id, 'router', 'done');
      await outbox.enqueue(manager, workflowCompleted, caused);
      return 'ok';
    });
    expect(redelivery).toEqual({ handled: true, result: 'ok' });
    expect(await effects(envelope.id)).toBe(1);
    expect(await claims(envelope.id)).toBe(1);
    // The message the handler caused committed with the claim.
    expect(await countRows(dataSource, 'outbox_messages', 'id = $1', [caused.id])).toBe(1);
  });

  it('pruneInbox forgets only envelopes handled before the cutoff', async () => {
    const old = newEnvelope();
    const recent = newEnvelope();
    for (const envelope of [old, recent]) {
      await inbox.handleOnce(dataSource, 'pruner', envelope, () => Promise.resolve());
    }
    await dataSource.query(
      `UPDATE ${qualifiedName(schema, 'inbox_messages')} SET handled_at = now() - interval '8 days' WHERE envelope_id = $1`,
      [old.id],
    );

    const pruned = await pruneInbox(dataSource, new Date(Date.now() - 7 * 24 * 3600 * 1000));

    expect(pruned).toBe(1);
    expect(await claims(old.id)).toBe(0);
    expect(await claims(recent.id)).toBe(1);
  });
});
