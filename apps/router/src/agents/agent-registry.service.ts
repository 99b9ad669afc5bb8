import { readFile } from 'node:fs/promises';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { Envelope, PayloadOf, agentHeartbeat } from '@baton/contracts';
import { EMPTY_POLICY_SET, parsePolicySet, type PolicySet } from '@baton/policy';
import { ROUTER_CONFIG, type RouterConfig } from '../config/router-config';
import { eligibleAgents, type Assignment, type Candidate, type PolicyCheck } from './assignment';

type Heartbeat = PayloadOf<typeof agentHeartbeat>;

export interface AgentView {
  agentId: string;
  instanceId: string;
  team: string;
  capabilities: string[];
  scopes: string[];
  models: string[];
  maxConcurrency: number;
  /** Open assignments the router gave the agent. */
  load: number;
  reportedInFlight: number;
  live: boolean;
  lastSeenAt: string;
}

/**
 * The agent registry, kept in Postgres from heartbeats so every router
 * instance (and a restarted one) sees the same agents, and the assignment
 * decision. An agent's slots are reserved under a per-agent lock held until
 * commit, so two concurrent dispatches never both take its last free slot.
 */
@Injectable()
export class AgentRegistry implements OnModuleInit {
  private readonly logger = new Logger(AgentRegistry.name);
  private policies: PolicySet = EMPTY_POLICY_SET;
  /** Who offers a capability, read at most once per ROUTER_AGENT_CACHE_MS (a read per dispatching transaction is a round trip each). */
  private readonly candidatesCache = new Map<string, { until: number; candidates: Promise<Candidate[]> }>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(ROUTER_CONFIG) private readonly config: RouterConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.policyFile) {
      this.policies = parsePolicySet(await readFile(this.config.policyFile, 'utf8'), this.config.policyFile);
      this.logger.log({ msg: 'policies loaded', file: this.config.policyFile, count: this.policies.policies.length });
    }
  }

  /** Newer heartbeats win; a replayed old one never revives a dead agent. */
  async recordHeartbeat(envelope: Envelope<Heartbeat>): Promise<void> {
    const h = envelope.payload;
    await this.dataSource.query(
      `INSERT INTO ${this.table('agents')} AS a
         (agent_id, instance_id, team, capabilities, scopes, models, max_concurrency, reported_in_flight, started_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (agent_id) DO UPDATE SET
         instance_id = EXCLUDED.instance_id, team = EXCLUDED.team, capabilities = EXCLUDED.capabilities,
         scopes = EXCLUDED.scopes, models = EXCLUDED.models, max_concurrency = EXCLUDED.max_concurrency,
         reported_in_flight = EXCLUDED.reported_in_flight, started_at = EXCLUDED.started_at,
         last_seen_at = EXCLUDED.last_seen_at
       WHERE a.last_seen_at < EXCLUDED.last_seen_at`,
      [h.agentId, h.instanceId, h.team, h.capabilities, h.scopes, h.models, h.maxConcurrency, h.inFlight, h.startedAt, envelope.occurredAt],
    );
  }

  /**
   * An assignment session for one transaction: candidates are read once per
   * capability, and its reservations are made together by reserve_agents
   * (per-agent slots held until commit), so concurrent transitions spread over
   * agents instead of queueing on one lock.
   */
  assignments(manager: EntityManager): AgentAssignments {
    return new AgentAssignments(manager, this.policies, this.config.dbSchema, (capability) => this.eligibility(manager, capability));
  }

  async list(): Promise<AgentView[]> {
    const rows: AgentRow[] = await this.dataSource.query(
      `SELECT a.*, a.last_seen_at >= now() - make_interval(secs => $1::double precision / 1000) AS live,
              (SELECT count(*) FROM ${this.table('workflow_steps')} s WHERE s.agent_id = a.agent_id AND s.status = 'dispatched') AS load
         FROM ${this.table('agents')} a ORDER BY a.agent_id`,
      [this.config.agentTimeoutMs],
    );
    return rows.map((row) => ({
      agentId: row.agent_id,
      instanceId: row.instance_id,
      team: row.team,
      capabilities: row.capabilities,
      scopes: row.scopes,
      models: row.models,
      maxConcurrency: row.max_concurrency,
      load: Number(row.load),
      reportedInFlight: row.reported_in_flight,
      live: row.live,
      lastSeenAt: new Date(row.last_seen_at).toISOString(),
    }));
  }

  /** Agents whose last heartbeat is older than the timeout. */
  async deadAgentIds(manager: EntityManager): Promise<string[]> {
    const rows: Array<{ agent_id: string }> = await manager.query(
      `SELECT agent_id FROM ${this.table('agents')} WHERE last_seen_at < now() - make_interval(secs => $1::double precision / 1000)`,
      [this.config.agentTimeoutMs],
    );
    return rows.map((row) => row.agent_id);
  }

  /**
   * Who has the capability, and whether they are live; load and capacity are reserve_agents' to judge (always on
   * current rows, under its locks). A cached answer is at most ROUTER_AGENT_CACHE_MS old: a newly announced agent
   * gets work, and a dead one stops getting it, that much later.
   */
  private eligibility(manager: EntityManager, capability: string): Promise<Candidate[]> {
    if (this.config.agentCacheMs === 0) return this.readCandidates(manager, capability);
    const now = Date.now();
    const cached = this.candidatesCache.get(capability);
    if (cached && cached.until > now) return cached.candidates;
    const candidates = this.readCandidates(manager, capability);
    const entry = { until: now + this.config.agentCacheMs, candidates };
    this.candidatesCache.set(capability, entry);
    // A failed read (its transaction aborted) must not be what the next transaction gets.
    candidates.catch(() => {
      if (this.candidatesCache.get(capability) === entry) this.candidatesCache.delete(capability);
    });
    return candidates;
  }

  private async readCandidates(manager: EntityManager, capability: string): Promise<Candidate[]> {
    const rows: Array<Pick<AgentRow, 'agent_id' | 'team' | 'capabilities' | 'scopes' | 'live'>> = await manager.query(
      `SELECT agent_id, team, capabilities, scopes,
              last_seen_at >= now() - make_interval(secs => $2::double precision / 1000) AS live
         FROM ${this.table('agents')} WHERE $1 = ANY(capabilities)`,
      [capability, this.config.agentTimeoutMs],
    );
    return rows.map((row) => ({
      agentId: row.agent_id,
      team: row.team,
      capabilities: row.capabilities,
      scopes: row.scopes,
      live: row.live,
    }));
  }

  private table(name: string): string {
    return `"${this.config.dbSchema}"."${name}"`;
  }
}

interface AgentRow {
  agent_id: string;
  instance_id: string;
  team: string;
  capabilities: string[];
  scopes: string[];
  models: string[];
  max_concurrency: number;
  reported_in_flight: number;
  last_seen_at: string | Date;
  live: boolean;
  load: string | number;
}

/** A reservation asked for; `settle` gets the chosen agent or why there is none. */
interface QueuedRequest {
  task: { capability: string; scopes?: readonly string[] };
  exclude: ReadonlySet<string>;
  settle: (assignment: Assignment) => void;
}

/**
 * The reservations of one transaction. Requests are queued while the
 * transaction decides what to dispatch and reserved together by flush(), in
 * one round trip however many steps and workflows the transaction advances;
 * `pending` counts slots reserved by earlier flushes and not written yet.
 */
export class AgentAssignments {
  private readonly candidatesByCapability = new Map<string, Promise<Candidate[]>>();
  private readonly pending = new Map<string, number>();
  private queue: QueuedRequest[] = [];

  constructor(
    private readonly manager: EntityManager,
    private readonly policies: PolicySet,
    private readonly schema: string,
    private readonly load: (capability: string) => Promise<Candidate[]>,
  ) {}

  request(task: QueuedRequest['task'], exclude: ReadonlySet<string>, settle: QueuedRequest['settle']): void {
    this.queue.push({ task, exclude, settle });
  }

  /** Reserves every queued request (least loaded eligible agent with a free slot) and settles each. */
  async flush(): Promise<void> {
    const queue = this.queue;
    this.queue = [];
    const eligible: Array<{ request: QueuedRequest; ids: string[]; policy: PolicyCheck | undefined }> = [];
    for (const request of queue) {
      const eligibility = eligibleAgents(await this.candidates(request.task.capability), request.task, this.policies, request.exclude);
      if ('reason' in eligibility) request.settle(eligibility);
      else eligible.push({ request, ids: eligibility.agentIds, policy: eligibility.policy });
    }
    if (eligible.length === 0) return;
    const rows: Array<{ chosen: Array<string | null> }> = await this.manager.query(
      `SELECT "${this.schema.replace(/"/g, '""')}".reserve_agents($1::jsonb, $2::jsonb, $3) AS chosen`,
      [JSON.stringify(eligible.map((e) => e.ids)), JSON.stringify(Object.fromEntries(this.pending)), `${this.schema}.agent:`],
    );
    const chosen = rows[0]?.chosen ?? [];
    eligible.forEach(({ request, ids, policy }, i) => {
      const agentId = chosen[i] ?? null;
      const judged = policy === undefined ? {} : { policy };
      if (agentId === null) {
        request.settle({
          reason: `all ${ids.length} eligible agent(s) for "${request.task.capability}" are at max concurrency`,
          ...judged,
        });
        return;
      }
      this.pending.set(agentId, (this.pending.get(agentId) ?? 0) + 1);
      request.settle({ agentId, ...judged });
    });
  }

  private candidates(capability: string): Promise<Candidate[]> {
    let candidates = this.candidatesByCapability.get(capability);
    if (!candidates) {
      candidates = this.load(capability);
      this.candidatesByCapability.set(capability, candidates);
    }
    return candidates;
  }
}
