import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, WORKFLOW_REQUESTED, type Envelope, type PayloadOf, workflowRequested } from '@baton/contracts';
import { WorkflowsService } from './workflows.service';

@Controller()
export class WorkflowRequestsConsumer {
  constructor(private readonly workflows: WorkflowsService) {}

  @EventPattern({ topic: TOPICS.workflowRequests, type: WORKFLOW_REQUESTED })
  async onRequested(@Payload() envelope: Envelope<PayloadOf<typeof workflowRequested>>): Promise<void> {
    const { workflowId, definition, input, requestedBy } = envelope.payload;
    await this.workflows.startFromRequest({ workflowId, definition, input, requestedBy, cause: envelope });
  }
}
