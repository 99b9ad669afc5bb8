import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createEnvelope, workflowFailed, type Envelope, type ErrorInfo, type JsonValue, type WorkflowDefinition } from '@baton/contracts';
import { Inbox, Outbox } from '@baton/persistence';
import { ROUTER_CONFIG, type RouterConfig } from '../config/router-config';
import { WorkflowEntity } from '../persistence/workflow.entity';

/**
 * Checks a submission must pass before anything is created, the same for
 * `POST /workflows` and `baton.workflow.requests`: sizes first (cheap, and a
 * huge input should not cost a database round trip), then capabilities.
 */

/**
 * A submission refused before anything was created. @baton/http answers with
 * `httpStatus`/`code` and lists `issues`; over Kafka it becomes workflow.failed.
 */
export abstract class SubmissionRejectedError extends Error {
  abstract readonly code: 'unknown_capability' | 'payload_too_large';
  abstract readonly httpStatus: number;
  readonly retryable = false;
  constructor(readonly issues: readonly string[]) {
    super(`workflow rejected: ${issues.join('; ')}`);
  }
}

export class UnknownCapabilityError extends SubmissionRejectedError {
  readonly code = 'unknown_capability';
  readonly httpStatus = 422;
}

export class SubmissionTooLargeError extends SubmissionRejectedError {
  readonly code = 'payload_too_large';
  readonly httpStatus = 413;
}

export interface CapabilityUse {
  path: string;
  capability: string;
}

/** Every capability a definition names statically, with its path (supervisor plans name theirs at run time). */
export function capabilitiesOf(definition: WorkflowDefinition): CapabilityUse[] {
  const uses: CapabilityUse[] = [];
  definition.steps.forEach((step, i) => {
    const at = `steps[${i}]`;
    if (step.capability !== undefined) uses.push({ path: `${at}.capability`, capability: step.capability });
    if (step.supervisor !== undefined) uses.push({ path: `${at}.supervisor.capability`, capability: step.supervisor.capability });
    if (step.merge?.capability !== undefined) uses.push({ path: `${at}.merge.capability`, capability: step.merge.capability });
    step.branches?.forEach((branch, b) => {
      if (branch.capability !== undefined) uses.push({ path: `${at}.branches[${b}].capability`, capability: branch.capability });
      branch.steps?.forEach((inner, s) => uses.push({ path: `${at}.branches[${b}].steps[${s}].capability`, capability: inner.capability }));
    });
  });
  return uses;
}

export function serializedBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

export function sizeIssues(
  parts: { definition?: WorkflowDefinition; input?: JsonValue },
  limits: { maxDefinitionBytes: number; maxInputBytes: number },
): string[] {
  const issues: string[] = [];
  if (parts.definition !== undefined) {
    const bytes = serializedBytes(parts.definition);
    if (bytes > limits.maxDefinitionBytes) {
      issues.push(`definition: ${bytes} bytes exceeds the limit of ${limits.maxDefinitionBytes} bytes (ROUTER_MAX_DEFINITION_BYTES)`);
    }
  }
  if (parts.input !== undefined) {
    const bytes = serializedBytes(parts.input);
    if (bytes > limits.maxInputBytes) {
      issues.push(`input: ${bytes} bytes exceeds the limit of ${limits.maxInputBytes} bytes (ROUTER_MAX_INPUT_BYTES)`);
    }
  }
  return issues;
}

@Injectable()
export class SubmissionChecks {
  private readonly logger = new Logger(SubmissionChecks.name);
  /**
   * Capabilities seen announced. Knowing one never expires (the registry keeps every agent it saw), so only
   * names not in here cost a query: a stream of requests for known work checks them in memory.
   */
  private readonly known = new Set<string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly inbox: Inbox,
    private readonly outbox: Outbox,
    @Inject(ROUTER_CONFIG) private readonly config: RouterConfig,
  ) {}

  /** Throws SubmissionTooLargeError or UnknownCapabilityError (the latter unless the check is switched off). */
  async assertAcceptable(definition: WorkflowDefinition, input: JsonValue): Promise<void> {
    this.assertSize({ definition, input });
    if (!this.config.rejectUnknownCapabilities) return;
    const unknown = await this.unknownCapabilities(definition);
    if (unknown.length > 0) throw new UnknownCapabilityError(unknown);
  }

  assertSize(parts: { definition?: WorkflowDefinition; input?: JsonValue }): void {
    const issues = sizeIssues(parts, this.config);
    if (issues.length > 0) throw new SubmissionTooLargeError(issues);
  }

  /**
   * One issue per path naming a capability no agent ever announced. The registry keeps every agent
   * seen, dead or alive: a capability whose agents are all down is known (its steps wait for one).
   */
  async unknownCapabilities(definition: WorkflowDefinition): Promise<string[]> {
    const uses = capabilitiesOf(definition);
    if (uses.length === 0) return [];
    const wanted = [...new Set(uses.map((use) => use.capability))].filter((capability) => !this.known.has(capability));
    if (wanted.length > 0) {
      const rows: Array<{ capability: string }> = await this.dataSource.query(
        `SELECT DISTINCT c AS capability FROM "${this.config.dbSchema}"."agents", unnest(capabilities) AS c WHERE c = ANY($1::text[])`,
        [wanted],
      );
      for (const row of rows) this.known.add(row.capability);
    }
    return uses
      .filter((use) => !this.known.has(use.capability))
      .map((use) => `${use.path}: unknown capability "${use.capability}" (no agent has announced it)`);
  }

  /**
   * The Kafka side of a rejection: the requester watches baton.workflow.events for its workflow id and
   * sees `workflow.failed` with the reason (and no `workflow.started` before it); nothing else is created.
   * Recorded in the same inbox as accepted requests, so a redelivery is not rejected twice.
   */
  async reject(cause: Envelope, workflowId: string, error: ErrorInfo): Promise<void> {
    await this.inbox.handleOnce(this.dataSource, 'router.workflow-requests', cause, async (manager) => {
      if (await manager.existsBy(WorkflowEntity, { id: workflowId })) {
        this.logger.warn({ msg: 'rejected request names an existing workflow; nothing published', workflowId, code: error.code });
        return;
      }
      this.logger.warn({ msg: 'workflow request rejected', workflowId, code: error.code, error: error.message });
      await this.outbox.enqueue(
        manager,
        workflowFailed,
        createEnvelope(
          workflowFailed,
          { workflowId, error },
          {
            source: 'router',
            correlationId: cause.correlationId,
            causationId: cause.id,
            workflowId,
          },
        ),
      );
    });
  }
}

/** The ErrorInfo of a rejection, or undefined for any other error. */
export function rejectionOf(error: unknown): ErrorInfo | undefined {
  if (error instanceof SubmissionRejectedError) {
    return { code: error.code, message: error.message, retryable: false };
  }
  return undefined;
}
