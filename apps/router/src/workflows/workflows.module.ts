import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { DefinitionsModule } from '../definitions/definitions.module';
import { TaskResultsConsumer } from './task-results.consumer';
import { WorkflowRequestsConsumer } from './workflow-requests.consumer';
import { WorkflowTimers } from './workflow-timers';
import { WorkflowsController } from './workflows.controller';
import { WorkflowsService } from './workflows.service';

@Module({
  imports: [DefinitionsModule, AgentsModule],
  controllers: [WorkflowsController],
  providers: [WorkflowsService, WorkflowTimers, TaskResultsConsumer, WorkflowRequestsConsumer],
})
export class WorkflowsModule {}
