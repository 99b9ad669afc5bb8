import { Module } from '@nestjs/common';
import { BusModule } from '@baton/bus';
import { TOPICS } from '@baton/contracts';
import { ConfigModule } from './config/config.module';
import { RUNNER_CONFIG, type RunnerConfig } from './config/runner-config';
import { HealthController } from './health/health.controller';
import { TasksModule } from './tasks/tasks.module';

@Module({
  imports: [
    ConfigModule,
    BusModule.forRootAsync({
      inject: [RUNNER_CONFIG],
      useFactory: (config: RunnerConfig) => ({
        brokers: config.kafkaBrokers,
        clientId: `agent-runner-${config.instanceId}`,
        // One consumer group: more runner processes share the tasks.
        groupId: 'agent-runner',
        topicPrefix: config.topicPrefix,
        topics: [
          TOPICS.tasksAssigned,
          TOPICS.tasksResults,
          TOPICS.agentHeartbeats,
          TOPICS.governanceUsage,
          TOPICS.audit,
          TOPICS.contextFacts,
          TOPICS.contextQueries,
          TOPICS.approvalsRequests,
          TOPICS.approvalsDecisions,
        ],
      }),
    }),
    TasksModule,
  ],
  controllers: [HealthController],
})
export class AppModule {}
