import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reserving agent slots for many steps in one round trip, without a global
 * lock. `reserve_agents(requests, pending, lock_ns)` takes, per request, the
 * ids of the agents eligible for it (capability, scopes, policy: decided by
 * the router) and picks the least loaded of them (open assignments relative to
 * capacity, then absolute, then agent id) whose per-agent lock is free right
 * now and who still has a free slot; when every such agent is being assigned
 * by someone else it retries for a moment. It never waits on a lock, so it
 * cannot deadlock. "Open assignments"
 * are the committed dispatched steps plus `pending` (slots this transaction
 * reserved earlier but has not written yet) plus what this call reserved for
 * earlier requests. The lock lasts until commit, so two transactions never
 * both take an agent's last slot, and concurrent dispatches spread over agents
 * instead of queueing behind one. Agents that look full are skipped without
 * taking their lock. PL/pgSQL takes a fresh snapshot per statement, so the
 * count after the lock sees every assignment committed before it.
 */
export class AgentReservation1732700000000 implements MigrationInterface {
  name = 'AgentReservation1732700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = quoteSchema(queryRunner);
    await queryRunner.query(`
      CREATE FUNCTION ${schema}.reserve_agents(requests jsonb, pending jsonb, lock_ns text) RETURNS text[]
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        chosen_ids text[] := '{}';
        -- Open assignments per agent: committed dispatched steps (a look without locks, made exact for an
        -- agent once its lock is held) plus what this transaction reserved and has not written yet.
        load jsonb;
        locked text[] := '{}';
        all_ids text[];
        request jsonb;
        chosen text;
        round int;
        busy boolean;
        candidate record;
        exact bigint;
      BEGIN
        all_ids := ARRAY(SELECT DISTINCT jsonb_array_elements_text(r) FROM jsonb_array_elements(requests) AS r);
        SELECT coalesce(jsonb_object_agg(id, coalesce(c.n, 0) + coalesce((pending ->> id)::bigint, 0)), '{}'::jsonb)
          INTO load
          FROM unnest(all_ids) AS id
          LEFT JOIN (
            SELECT agent_id, count(*) AS n FROM ${schema}.workflow_steps
             WHERE status = 'dispatched' AND agent_id = ANY(all_ids) GROUP BY agent_id
          ) c ON c.agent_id = id;
        FOR request IN SELECT value FROM jsonb_array_elements(requests) LOOP
          chosen := NULL;
          FOR round IN 1..50 LOOP
            busy := false;
            FOR candidate IN
              SELECT a.agent_id, a.max_concurrency AS capacity
                FROM ${schema}.agents a
               WHERE a.agent_id IN (SELECT jsonb_array_elements_text(request))
               ORDER BY (load ->> a.agent_id)::float8 / a.max_concurrency, (load ->> a.agent_id)::bigint, a.agent_id COLLATE "C"
            LOOP
              CONTINUE WHEN (load ->> candidate.agent_id)::bigint >= candidate.capacity;
              IF NOT candidate.agent_id = ANY(locked) THEN
                IF NOT pg_try_advisory_xact_lock(hashtext(lock_ns || candidate.agent_id)) THEN
                  busy := true;
                  CONTINUE;
                END IF;
                locked := array_append(locked, candidate.agent_id);
                -- Under the lock nobody else can add to this agent until we commit: count it exactly once.
                SELECT count(*) INTO exact FROM ${schema}.workflow_steps WHERE agent_id = candidate.agent_id AND status = 'dispatched';
                load := jsonb_set(load, ARRAY[candidate.agent_id], to_jsonb(exact + coalesce((pending ->> candidate.agent_id)::bigint, 0)));
                CONTINUE WHEN (load ->> candidate.agent_id)::bigint >= candidate.capacity;
              END IF;
              chosen := candidate.agent_id;
              load := jsonb_set(load, ARRAY[chosen], to_jsonb((load ->> chosen)::bigint + 1));
              EXIT;
            END LOOP;
            EXIT WHEN chosen IS NOT NULL OR NOT busy;
            -- Every agent with a free slot is being assigned by another transaction right now. Retry
            -- shortly rather than wait on its lock: a transaction holding one agent's lock while waiting
            -- for another's could deadlock with one doing the opposite. Still nothing after ~100 ms:
            -- the step waits for an agent and the timer tries again.
            PERFORM pg_sleep(0.002);
          END LOOP;
          chosen_ids := array_append(chosen_ids, chosen);
        END LOOP;
        RETURN chosen_ids;
      END $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = quoteSchema(queryRunner);
    await queryRunner.query(`DROP FUNCTION ${schema}.reserve_agents(jsonb, jsonb, text)`);
  }
}

function quoteSchema(queryRunner: QueryRunner): string {
  const schema = (queryRunner.connection.options as { schema?: string }).schema ?? 'public';
  return `"${schema.replace(/"/g, '""')}"`;
}
