import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { NonRetryableError } from '@baton/bus';
import {
  TOPICS,
  WORKFLOW_REQUESTED,
  WORKFLOW_REQUESTED_BY_NAME,
  type Envelope,
  type JsonValue,
  type WorkflowDefinition,
  type PayloadOf,
  workflowRequested,
  workflowRequestedByName,
} from '@baton/contracts';
import { DefinitionsService } from '../definitions/definitions.service';
import { SubmissionChecks, rejectionOf } from './submission-checks';
import { DefinitionNotFoundError } from './workflow-errors';
import { WorkflowsService } from './workflows.service';

@Controller()
export class WorkflowRequestsConsumer {
  constructor(
    private readonly workflows: WorkflowsService,
    private readonly definitions: DefinitionsService,
    private readonly checks: SubmissionChecks,
  ) {}

  @EventPattern({ topic: TOPICS.workflowRequests, type: WORKFLOW_REQUESTED })
  async onRequested(@Payload() envelope: Envelope<PayloadOf<typeof workflowRequested>>): Promise<void> {
    const { workflowId, definition, input, requestedBy } = envelope.payload;
    if (await this.rejected(envelope, workflowId, definition, input)) return;
    await this.workflows.startFromRequest({ workflowId, definition, input, requestedBy, cause: envelope });
  }

  /** Event-driven start: a trigger (or any publisher) names a registered definition. */
  @EventPattern({ topic: TOPICS.workflowRequests, type: WORKFLOW_REQUESTED_BY_NAME })
  async onRequestedByName(@Payload() envelope: Envelope<PayloadOf<typeof workflowRequestedByName>>): Promise<void> {
    const { workflowId, definitionName, input, requestedBy } = envelope.payload;
    let definition;
    try {
      definition = (await this.definitions.get(definitionName)).definition;
    } catch (error) {
      // An unknown name will not become known by retrying this message: dead-letter it with the reason.
      if (error instanceof DefinitionNotFoundError) throw new NonRetryableError(error.message);
      throw error;
    }
    if (await this.rejected(envelope, workflowId, definition, input)) return;
    await this.workflows.startFromRequest({ workflowId, definition, definitionName, input, requestedBy, cause: envelope });
  }

  /** A request failing the submission checks is answered with workflow.failed, not dead-lettered: its sender is watching the workflow. */
  private async rejected(envelope: Envelope, workflowId: string, definition: WorkflowDefinition, input: JsonValue): Promise<boolean> {
    try {
      await this.checks.assertAcceptable(definition, input);
      return false;
    } catch (error) {
      const rejection = rejectionOf(error);
      if (rejection === undefined) throw error;
      await this.checks.reject(envelope, workflowId, rejection);
      return true;
    }
  }
}
