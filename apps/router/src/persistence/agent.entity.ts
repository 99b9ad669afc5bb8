import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One logical agent as last announced by a heartbeat. */
@Entity({ name: 'agents' })
export class AgentEntity {
  @PrimaryColumn('text', { name: 'agent_id' })
  agentId!: string;

  @Column('text', { name: 'instance_id' })
  instanceId!: string;

  @Column('text')
  team!: string;

  @Column('text', { array: true })
  capabilities!: string[];

  @Column('text', { array: true })
  scopes!: string[];

  @Column('text', { array: true })
  models!: string[];

  @Column('int', { name: 'max_concurrency' })
  maxConcurrency!: number;

  /** In flight by the agent's own count (the router routes on its own count of open assignments). */
  @Column('int', { name: 'reported_in_flight' })
  reportedInFlight!: number;

  @Column('timestamptz', { name: 'started_at' })
  startedAt!: Date;

  @Column('timestamptz', { name: 'last_seen_at' })
  lastSeenAt!: Date;
}
