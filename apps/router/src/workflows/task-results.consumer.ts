import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { TASK_COMPLETED, TASK_FAILED, TOPICS, type Envelope, type PayloadOf, taskCompleted, taskFailed } from '@baton/contracts';
import { WorkflowsService } from './workflows.service';

@Controller()
export class TaskResultsConsumer {
  constructor(private readonly workflows: WorkflowsService) {}

  @EventPattern({ topic: TOPICS.tasksResults, type: TASK_COMPLETED })
  async onCompleted(@Payload() envelope: Envelope<PayloadOf<typeof taskCompleted>>): Promise<void> {
    await this.workflows.onTaskCompleted(envelope);
  }

  @EventPattern({ topic: TOPICS.tasksResults, type: TASK_FAILED })
  async onFailed(@Payload() envelope: Envelope<PayloadOf<typeof taskFailed>>): Promise<void> {
    await this.workflows.onTaskFailed(envelope);
  }
}
