import { Module } from '@nestjs/common';
import { TaskResultsConsumer } from './task-results.consumer';
import { WorkflowRequestsConsumer } from './workflow-requests.consumer';
import { WorkflowsController } from './workflows.controller';
import { WorkflowsService } from './workflows.service';

@Module({
  controllers: [WorkflowsController, TaskResultsConsumer, WorkflowRequestsConsumer],
  providers: [WorkflowsService],
})
export class WorkflowsModule {}
