import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { type Context, context } from '@opentelemetry/api';
import { KafkaBus, NonRetryableError, type ConsumedMessage } from '@baton/bus';
import {
  TOPICS,
  WORKFLOW_REQUESTED,
  WORKFLOW_REQUESTED_BY_NAME,
  type Envelope,
  type PayloadOf,
  type workflowRequested,
  type workflowRequestedByName,
} from '@baton/contracts';
import { ROUTER_CONFIG, type RouterConfig } from '../config/router-config';
import { DefinitionsService } from '../definitions/definitions.service';
import { SubmissionChecks, rejectionOf } from './submission-checks';
import { DefinitionNotFoundError } from './workflow-errors';
import { WorkflowsService, type StartWorkflow } from './workflows.service';

export const WORKFLOW_REQUESTS_GROUP = 'router.workflow-requests';

type Requested = Envelope<PayloadOf<typeof workflowRequested>>;
type RequestedByName = Envelope<PayloadOf<typeof workflowRequestedByName>>;
type Accepted = StartWorkflow & { cause: Envelope };

/**
 * Workflow requests, a fetched batch at a time (their own consumer group):
 * each is checked (a rejection is answered with workflow.failed in its own
 * transaction), and the accepted ones start together in one transaction. A
 * failing batch — a name no definition has is dead-lettered — is handled
 * again by the bus one message at a time.
 */
@Injectable()
export class WorkflowRequestsConsumer implements OnApplicationBootstrap {
  constructor(
    private readonly bus: KafkaBus,
    private readonly workflows: WorkflowsService,
    private readonly definitions: DefinitionsService,
    private readonly checks: SubmissionChecks,
    @Inject(ROUTER_CONFIG) private readonly config: RouterConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Closed by the bus on shutdown, after in-flight batches finish and commit.
    await this.bus.subscribeBatch({
      groupId: WORKFLOW_REQUESTS_GROUP,
      topics: [TOPICS.workflowRequests],
      partitionsConsumedConcurrently: this.config.consumerConcurrency,
      batchHandler: (messages) => this.onRequests(messages),
      handler: (message) => this.onRequests([message]),
    });
  }

  private async onRequests(messages: readonly ConsumedMessage[]): Promise<void> {
    const accepted: Accepted[] = [];
    for (const { envelope, traceContext } of messages) {
      const command = await this.commandOf(envelope, traceContext);
      // A rejection is answered in the trace of the request it answers.
      if (command && !(await context.with(traceContext, () => this.rejected(command)))) accepted.push(command);
    }
    await this.workflows.startFromRequests(accepted);
  }

  private async commandOf(envelope: Envelope, traceContext: Context): Promise<Accepted | undefined> {
    switch (envelope.type) {
      case WORKFLOW_REQUESTED: {
        const { workflowId, definition, input, requestedBy } = (envelope as Requested).payload;
        return { workflowId, definition, input, requestedBy, cause: envelope, traceContext };
      }
      case WORKFLOW_REQUESTED_BY_NAME: {
        // Event-driven start: a trigger (or any publisher) names a registered definition.
        const { workflowId, definitionName, input, requestedBy } = (envelope as RequestedByName).payload;
        try {
          const { definition } = await this.definitions.get(definitionName);
          return { workflowId, definition, definitionName, input, requestedBy, cause: envelope, traceContext };
        } catch (error) {
          // An unknown name will not become known by retrying this message: dead-letter it with the reason.
          if (error instanceof DefinitionNotFoundError) throw new NonRetryableError(error.message);
          throw error;
        }
      }
      default:
        return undefined;
    }
  }

  /** A request failing the submission checks is answered with workflow.failed, not dead-lettered: its sender is watching the workflow. */
  private async rejected(command: Accepted): Promise<boolean> {
    try {
      await this.checks.assertAcceptable(command.definition, command.input);
      return false;
    } catch (error) {
      const rejection = rejectionOf(error);
      if (rejection === undefined) throw error;
      await this.checks.reject(command.cause, command.workflowId, rejection);
      return true;
    }
  }
}
