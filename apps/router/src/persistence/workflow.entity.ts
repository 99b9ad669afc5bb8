import { Column, CreateDateColumn, Entity, OneToMany, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { WorkflowDefinition } from '@baton/contracts';
import type { StoredJson } from './stored-json';
import { WorkflowStepEntity } from './workflow-step.entity';

export const WORKFLOW_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

@Entity({ name: 'workflows' })
export class WorkflowEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  name!: string;

  @Column('jsonb')
  definition!: WorkflowDefinition;

  @Column('jsonb')
  input!: StoredJson;

  @Column('text')
  status!: WorkflowStatus;

  @Column('jsonb', { nullable: true })
  output!: StoredJson | null;

  @Column('jsonb', { nullable: true })
  error!: { code: string; message: string } | null;

  @Column('text', { name: 'correlation_id' })
  correlationId!: string;

  /** Set when started from a registered definition. */
  @Column('text', { name: 'definition_name', nullable: true })
  definitionName!: string | null;

  @Column('text', { name: 'requested_by' })
  requestedBy!: string;

  /** W3C traceparent of the span the workflow started in (null when tracing is off). */
  @Column('text', { name: 'trace_parent', nullable: true })
  traceParent!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @OneToMany(() => WorkflowStepEntity, (step) => step.workflow)
  steps?: WorkflowStepEntity[];
}
