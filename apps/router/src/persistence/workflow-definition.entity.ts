import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { WorkflowDefinition } from '@baton/contracts';

export const DEFINITION_SOURCES = ['file', 'api'] as const;
export type DefinitionSource = (typeof DEFINITION_SOURCES)[number];

@Entity({ name: 'workflow_definitions' })
export class WorkflowDefinitionEntity {
  @PrimaryColumn('text')
  name!: string;

  /** Grows by one whenever the registered content changes. */
  @Column('int')
  version!: number;

  @Column('jsonb')
  definition!: WorkflowDefinition;

  @Column('text')
  source!: DefinitionSource;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
