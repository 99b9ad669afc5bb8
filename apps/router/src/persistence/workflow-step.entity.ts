import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { ErrorInfo } from '@baton/contracts';
import type { NodeSpec } from '../workflows/engine/workflow-engine';
import type { StoredJson } from './stored-json';
import { WorkflowEntity } from './workflow.entity';

export const STEP_STATUSES = ['pending', 'waiting_for_agent', 'dispatched', 'retry_wait', 'completed', 'failed', 'cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

@Entity({ name: 'workflow_steps' })
export class WorkflowStepEntity {
  @PrimaryColumn('uuid', { name: 'workflow_id' })
  workflowId!: string;

  @PrimaryColumn('text', { name: 'step_id' })
  stepId!: string;

  @ManyToOne(() => WorkflowEntity, (workflow) => workflow.steps, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workflow_id' })
  workflow?: WorkflowEntity;

  @Column('int')
  position!: number;

  @Column('text')
  capability!: string;

  @Column('text')
  status!: StepStatus;

  @Column('int')
  attempt!: number;

  /** The current attempt's task id; results for any other id are stale. */
  @Column('uuid', { name: 'task_id', nullable: true })
  taskId!: string | null;

  @Column('jsonb', { nullable: true })
  input!: StoredJson | null;

  @Column('jsonb', { nullable: true })
  output!: StoredJson | null;

  @Column('double precision', { nullable: true })
  confidence!: number | null;

  @Column('text', { name: 'agent_id', nullable: true })
  agentId!: string | null;

  @Column('jsonb', { nullable: true })
  error!: ErrorInfo | null;

  @Column('timestamptz', { name: 'dispatched_at', nullable: true })
  dispatchedAt!: Date | null;

  @Column('timestamptz', { name: 'completed_at', nullable: true })
  completedAt!: Date | null;

  /** What the engine asked for (capability, input, timeout, retry, scopes); retries resend it. */
  @Column('jsonb', { nullable: true })
  spec!: NodeSpec | null;

  /** The open attempt times out at this instant. */
  @Column('timestamptz', { name: 'deadline_at', nullable: true })
  deadlineAt!: Date | null;

  /** A step waiting to retry is dispatched again from this instant. */
  @Column('timestamptz', { name: 'not_before', nullable: true })
  notBefore!: Date | null;

  /** Why no agent could take the step (status waiting_for_agent). */
  @Column('text', { name: 'wait_reason', nullable: true })
  waitReason!: string | null;

  @Column('int', { name: 'completion_order', nullable: true })
  completionOrder!: number | null;
}
