import { Module } from '@nestjs/common';
import { BusModule } from '@baton/bus';
import { CLAIM_STORE, ClaimStoreModule, ClaimStoreShutdown, type PostgresClaimStore } from '@baton/persistence';
import { TOPICS } from '@baton/contracts';
import { ConfigModule } from './config/config.module';
import { RUNNER_CONFIG, type RunnerConfig } from './config/runner-config';
import { HealthController } from './health/health.controller';
import { TasksModule } from './tasks/tasks.module';

@Module({
  imports: [
    ConfigModule,
    BusModule.forRootAsync({
      imports: [
        ClaimStoreModule.forRootAsync({
          imports: [ConfigModule],
          inject: [RUNNER_CONFIG],
          useFactory: (config: RunnerConfig) => ({
            databaseUrl: config.databaseUrl,
            applicationName: `baton-agent-runner-${config.instanceId}-claims`,
          }),
        }),
      ],
      inject: [RUNNER_CONFIG, CLAIM_STORE],
      useFactory: (config: RunnerConfig, claimStore: PostgresClaimStore | null) => ({
        // Results over the threshold are stored by reference; claim-checked tasks from the router are read back.
        ...(claimStore ? { claimStore } : {}),
        claimThresholdBytes: config.claimThresholdBytes,
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
  providers: [ClaimStoreShutdown],
})
export class AppModule {}
