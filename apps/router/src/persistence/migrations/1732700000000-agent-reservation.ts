import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reserving a slot of an agent in one round trip, without a global lock.
 * `reserve_agent(ids, pending, lock_ns)` walks the eligible agents best first
 * and takes the first one whose per-agent lock is free right now and whose open
 * assignments (committed dispatched steps, plus `pending` ones this
 * transaction reserved but has not written yet) are below its max
 * concurrency; only when every eligible agent is being assigned by someone
 * else does it wait, on the best one. The lock lasts until commit, so two
 * transactions never both take an agent's last slot, and concurrent
 * dispatches spread over agents instead of queueing behind one. Agents that
 * look full are skipped without taking their lock. PL/pgSQL
 * takes a fresh snapshot per statement, so the count after the lock sees
 * every assignment committed before it.
 */
export class AgentReservation1732700000000 implements MigrationInterface {
  name = 'AgentReservation1732700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = quoteSchema(queryRunner);
    await queryRunner.query(`
      CREATE FUNCTION ${schema}.reserve_agent(ids text[], pending int[], lock_ns text) RETURNS text
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        pass int;
        i int;
        open_count bigint;
        capacity int;
      BEGIN
        FOR pass IN 1..2 LOOP
          FOR i IN 1..coalesce(array_length(ids, 1), 0) LOOP
            SELECT max_concurrency INTO capacity FROM ${schema}.agents WHERE agent_id = ids[i];
            CONTINUE WHEN capacity IS NULL;
            -- A look without the lock first: a full agent is never locked, so nobody waits on it.
            SELECT count(*) INTO open_count FROM ${schema}.workflow_steps WHERE agent_id = ids[i] AND status = 'dispatched';
            CONTINUE WHEN open_count + coalesce(pending[i], 0) >= capacity;
            IF pass = 1 THEN
              CONTINUE WHEN NOT pg_try_advisory_xact_lock(hashtext(lock_ns || ids[i]));
            ELSE
              PERFORM pg_advisory_xact_lock(hashtext(lock_ns || ids[i]));
            END IF;
            SELECT count(*) INTO open_count FROM ${schema}.workflow_steps WHERE agent_id = ids[i] AND status = 'dispatched';
            IF open_count + coalesce(pending[i], 0) < capacity THEN
              RETURN ids[i];
            END IF;
          END LOOP;
        END LOOP;
        RETURN NULL;
      END $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = quoteSchema(queryRunner);
    await queryRunner.query(`DROP FUNCTION ${schema}.reserve_agent(text[], int[], text)`);
  }
}

function quoteSchema(queryRunner: QueryRunner): string {
  const schema = (queryRunner.connection.options as { schema?: string }).schema ?? 'public';
  return `"${schema.replace(/"/g, '""')}"`;
}
