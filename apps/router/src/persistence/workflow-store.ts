import type { EntityManager } from 'typeorm';
import type { ErrorInfo, WorkflowDefinition } from '@baton/contracts';
import type { SqlStatement } from '@baton/persistence';
import type { NodeSpec } from '../workflows/engine/workflow-engine';
import type { StoredJson } from './stored-json';
import type { StepStatus, WorkflowStepEntity } from './workflow-step.entity';
import type { WorkflowEntity, WorkflowStatus } from './workflow.entity';

/**
 * The router's hot path in plain SQL: every workflow transition locks one
 * workflow row, reads its steps and writes only the columns that changed, in
 * as few round trips as the transition allows (the writes are statements the
 * caller sends together with the outbox rows). TypeORM's `save` would first
 * re-read every row it writes; at hundreds of transitions a second that
 * doubles the work. Reads for people (GET /workflows/:id) stay on TypeORM.
 */
export class WorkflowStore {
  /** Step rows as read, to write back only what a transition changed. */
  private readonly loaded = new WeakMap<WorkflowStepEntity, StepColumns>();

  constructor(private readonly schema: string) {}

  /** Inserts the workflows that do not exist yet, in one statement; returns the ids (lower case) it inserted. */
  async insertWorkflows(manager: EntityManager, workflows: readonly WorkflowEntity[]): Promise<Set<string>> {
    if (workflows.length === 0) return new Set();
    const { sql, values } = valuesList(
      workflows.map((workflow) => [
        workflow.id,
        workflow.name,
        json(workflow.definition),
        workflow.definitionName,
        json(workflow.input),
        workflow.status,
        json(workflow.output),
        json(workflow.error),
        workflow.correlationId,
        workflow.requestedBy,
        workflow.traceParent,
      ]),
      ['uuid', 'text', 'jsonb', 'text', 'jsonb', 'text', 'jsonb', 'jsonb', 'text', 'text', 'text'],
    );
    const rows: Array<{ id: string }> = await manager.query(
      `INSERT INTO ${this.table('workflows')}
         (id, name, definition, definition_name, input, status, output, error, correlation_id, requested_by, trace_parent)
       ${sql}
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      values,
    );
    return new Set(rows.map((row) => row.id.toLowerCase()));
  }

  /** Locks the workflow row until the transaction ends: a workflow's transitions run one at a time. */
  async lockWorkflow(manager: EntityManager, workflowId: string): Promise<WorkflowEntity | undefined> {
    const rows: WorkflowRow[] = await manager.query(`SELECT * FROM ${this.table('workflows')} WHERE id = $1 FOR UPDATE`, [workflowId]);
    const row = rows[0];
    return row ? workflowOf(row) : undefined;
  }

  /** Locks many workflows in id order (so concurrent batches never deadlock on each other), as a statement to send with another. */
  lockWorkflowsStatement(workflowIds: readonly string[]): SqlStatement {
    return {
      sql: `SELECT * FROM ${this.table('workflows')} WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
      values: [[...new Set(workflowIds)]],
    };
  }

  workflowsOf(rows: readonly WorkflowRow[]): WorkflowEntity[] {
    return rows.map(workflowOf);
  }

  /** The steps of many workflows in one read, by workflow id. */
  async stepsOf(manager: EntityManager, workflowIds: readonly string[]): Promise<Map<string, WorkflowStepEntity[]>> {
    // Keyed in Postgres's canonical (lower-case) uuid spelling.
    const byWorkflow = new Map<string, WorkflowStepEntity[]>(workflowIds.map((id) => [id.toLowerCase(), []]));
    if (workflowIds.length === 0) return byWorkflow;
    const rows: StepRow[] = await manager.query(`SELECT * FROM ${this.table('workflow_steps')} WHERE workflow_id = ANY($1::uuid[])`, [
      [...new Set(workflowIds)],
    ]);
    for (const row of rows) byWorkflow.get(row.workflow_id)?.push(this.track(stepOf(row)));
    return byWorkflow;
  }

  /** The end (status, output, error) of every given workflow, as one UPDATE. */
  finishWorkflows(workflows: readonly WorkflowEntity[]): SqlStatement[] {
    if (workflows.length === 0) return [];
    const { sql, values } = valuesList(
      workflows.map((workflow) => [workflow.id, workflow.status, json(workflow.output), json(workflow.error)]),
      ['uuid', 'text', 'jsonb', 'jsonb'],
    );
    return [
      {
        sql: `UPDATE ${this.table('workflows')} AS w SET status = v.status, output = v.output, error = v.error, updated_at = now()
         FROM (${sql}) AS v(id, status, output, error) WHERE w.id = v.id`,
        values,
      },
    ];
  }

  async steps(manager: EntityManager, workflowId: string): Promise<WorkflowStepEntity[]> {
    const rows: StepRow[] = await manager.query(`SELECT * FROM ${this.table('workflow_steps')} WHERE workflow_id = $1`, [workflowId]);
    return rows.map((row) => this.track(stepOf(row)));
  }

  /**
   * The writes of new and changed steps: new steps in one INSERT, changed
   * steps in one UPDATE per set of changed columns (a batch of results changes
   * the same columns of many steps), never rewriting a column that did not
   * change. The caller sends them (with the outbox, in one statement); the rows
   * count as written from here on, which holds because a failed statement
   * aborts the transaction these entities belong to.
   */
  saveSteps(steps: Iterable<WorkflowStepEntity>): SqlStatement[] {
    const statements: SqlStatement[] = [];
    const fresh: WorkflowStepEntity[] = [];
    const updates = new Map<string, { columns: StepColumn[]; steps: Array<{ step: WorkflowStepEntity; after: StepColumns }> }>();
    for (const step of steps) {
      const before = this.loaded.get(step);
      if (!before) {
        fresh.push(step);
        continue;
      }
      const after = columnsOf(step);
      const changed = STEP_COLUMNS.filter((column) => !sameValue(before[column], after[column]));
      if (changed.length === 0) continue;
      const signature = changed.join(',');
      const group = updates.get(signature) ?? { columns: changed, steps: [] };
      group.steps.push({ step, after });
      updates.set(signature, group);
    }
    for (const { columns, steps: changed } of updates.values()) {
      const { sql, values } = valuesList(
        changed.map(({ step, after }) => [step.workflowId, step.stepId, ...columns.map((column) => dbValue(column, after[column]))]),
        ['uuid', 'text', ...columns.map((column) => STEP_COLUMN_TYPES[column])],
      );
      statements.push({
        sql: `UPDATE ${this.table('workflow_steps')} AS s SET ${columns.map((column) => `${column} = v.${column}`).join(', ')}
           FROM (${sql}) AS v(workflow_id, step_id, ${columns.join(', ')})
          WHERE s.workflow_id = v.workflow_id AND s.step_id = v.step_id`,
        values,
      });
      for (const { step, after } of changed) this.loaded.set(step, after);
    }
    if (fresh.length === 0) return statements;
    const rows = fresh.map((step) => ({ step, columns: columnsOf(step) }));
    const { sql, values } = valuesList(
      rows.map(({ step, columns }) => [step.workflowId, step.stepId, ...STEP_COLUMNS.map((column) => dbValue(column, columns[column]))]),
      ['uuid', 'text', ...STEP_COLUMNS.map((column) => STEP_COLUMN_TYPES[column])],
    );
    statements.push({
      sql: `INSERT INTO ${this.table('workflow_steps')} (workflow_id, step_id, ${STEP_COLUMNS.join(', ')}) ${sql}`,
      values,
    });
    for (const { step, columns } of rows) this.loaded.set(step, columns);
    return statements;
  }

  private track(step: WorkflowStepEntity): WorkflowStepEntity {
    this.loaded.set(step, columnsOf(step));
    return step;
  }

  private table(name: string): string {
    return `"${this.schema.replace(/"/g, '""')}"."${name}"`;
  }
}

const STEP_COLUMNS = [
  'position',
  'capability',
  'status',
  'attempt',
  'task_id',
  'input',
  'output',
  'confidence',
  'agent_id',
  'error',
  'dispatched_at',
  'completed_at',
  'spec',
  'deadline_at',
  'not_before',
  'wait_reason',
  'completion_order',
] as const;

type StepColumn = (typeof STEP_COLUMNS)[number];

const STEP_COLUMN_TYPES: Record<StepColumn, string> = {
  position: 'int',
  capability: 'text',
  status: 'text',
  attempt: 'int',
  task_id: 'uuid',
  input: 'jsonb',
  output: 'jsonb',
  confidence: 'float8',
  agent_id: 'text',
  error: 'jsonb',
  dispatched_at: 'timestamptz',
  completed_at: 'timestamptz',
  spec: 'jsonb',
  deadline_at: 'timestamptz',
  not_before: 'timestamptz',
  wait_reason: 'text',
  completion_order: 'int',
};
type StepColumns = Record<StepColumn, unknown>;

interface StepRow extends StepColumns {
  workflow_id: string;
  step_id: string;
}

export interface WorkflowRow {
  id: string;
  name: string;
  definition: WorkflowDefinition;
  definition_name: string | null;
  input: StoredJson;
  status: WorkflowStatus;
  output: StoredJson | null;
  error: { code: string; message: string } | null;
  correlation_id: string;
  requested_by: string;
  trace_parent: string | null;
  created_at: Date;
  updated_at: Date;
}

function columnsOf(step: WorkflowStepEntity): StepColumns {
  return {
    position: step.position,
    capability: step.capability,
    status: step.status,
    attempt: step.attempt,
    task_id: step.taskId,
    input: step.input,
    output: step.output,
    confidence: step.confidence,
    agent_id: step.agentId,
    error: step.error,
    dispatched_at: step.dispatchedAt,
    completed_at: step.completedAt,
    spec: step.spec,
    deadline_at: step.deadlineAt,
    not_before: step.notBefore,
    wait_reason: step.waitReason,
    completion_order: step.completionOrder,
  };
}

function stepOf(row: StepRow): WorkflowStepEntity {
  return {
    workflowId: row.workflow_id,
    stepId: row.step_id,
    position: row.position as number,
    capability: row.capability as string,
    status: row.status as StepStatus,
    attempt: row.attempt as number,
    taskId: row.task_id as string | null,
    input: row.input as StoredJson | null,
    output: row.output as StoredJson | null,
    confidence: row.confidence as number | null,
    agentId: row.agent_id as string | null,
    error: row.error as ErrorInfo | null,
    dispatchedAt: row.dispatched_at as Date | null,
    completedAt: row.completed_at as Date | null,
    spec: row.spec as NodeSpec | null,
    deadlineAt: row.deadline_at as Date | null,
    notBefore: row.not_before as Date | null,
    waitReason: row.wait_reason as string | null,
    completionOrder: row.completion_order as number | null,
  };
}

function workflowOf(row: WorkflowRow): WorkflowEntity {
  return {
    id: row.id,
    name: row.name,
    definition: row.definition,
    definitionName: row.definition_name,
    input: row.input,
    status: row.status,
    output: row.output,
    error: row.error,
    correlationId: row.correlation_id,
    requestedBy: row.requested_by,
    traceParent: row.trace_parent,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** `VALUES (...), (...)` with numbered, typed placeholders for rows of parameters. */
function valuesList(rows: readonly unknown[][], types: readonly string[]): { sql: string; values: unknown[] } {
  const values: unknown[] = [];
  const tuples = rows.map((row) => {
    const start = values.length;
    values.push(...row);
    return `(${types.map((type, i) => `$${start + i + 1}::${type}`).join(', ')})`;
  });
  return { sql: `VALUES ${tuples.join(', ')}`, values };
}

/** jsonb parameters go as JSON text: pg would send a JS array as a Postgres array. */
function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

const JSON_COLUMNS: ReadonlySet<StepColumn> = new Set(['input', 'output', 'error', 'spec']);

function dbValue(column: StepColumn, value: unknown): unknown {
  return JSON_COLUMNS.has(column) ? json(value) : value;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return a === b;
}
