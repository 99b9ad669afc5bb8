import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { TASK_ASSIGNED, TOPICS, type Envelope, type PayloadOf, type taskAssigned } from '@baton/contracts';
import { TasksService } from './tasks.service';

@Controller()
export class TasksConsumer {
  constructor(private readonly tasks: TasksService) {}

  @EventPattern({ topic: TOPICS.tasksAssigned, type: TASK_ASSIGNED })
  async onAssigned(@Payload() envelope: Envelope<PayloadOf<typeof taskAssigned>>): Promise<void> {
    await this.tasks.execute(envelope);
  }
}
