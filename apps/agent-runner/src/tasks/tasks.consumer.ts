import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  TASK_ASSIGNED,
  TASK_CANCEL_REQUESTED,
  TOPICS,
  type Envelope,
  type PayloadOf,
  type taskAssigned,
  type taskCancelRequested,
} from '@baton/contracts';
import { TasksService } from './tasks.service';

@Controller()
export class TasksConsumer {
  constructor(private readonly tasks: TasksService) {}

  @EventPattern({ topic: TOPICS.tasksAssigned, type: TASK_ASSIGNED })
  async onAssigned(@Payload() envelope: Envelope<PayloadOf<typeof taskAssigned>>): Promise<void> {
    await this.tasks.accept(envelope);
  }

  @EventPattern({ topic: TOPICS.tasksAssigned, type: TASK_CANCEL_REQUESTED })
  onCancelRequested(@Payload() envelope: Envelope<PayloadOf<typeof taskCancelRequested>>): void {
    this.tasks.cancel(envelope.payload);
  }
}
