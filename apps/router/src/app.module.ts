import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { BusModule, KafkaBus } from '@baton/bus';
import { TOPICS } from '@baton/contracts';
import { ApiKeyGuard, HTTP_API_KEYS, HttpErrorFilter, type ApiKeySettings } from '@baton/http';
import { OUTBOX_PUBLISHER, PersistenceModule, PostgresClaimStore } from '@baton/persistence';
import { DataSource } from 'typeorm';
import { ROUTER_CONFIG, type RouterConfig } from './config/router-config';
import { ConfigModule } from './config/config.module';
import { HealthController } from './health/health.controller';
import { AgentEntity } from './persistence/agent.entity';
import { ROUTER_MIGRATIONS } from './persistence/migrations/router-migrations';
import { WorkflowDefinitionEntity } from './persistence/workflow-definition.entity';
import { WorkflowStepEntity } from './persistence/workflow-step.entity';
import { WorkflowEntity } from './persistence/workflow.entity';
import { WorkflowsModule } from './workflows/workflows.module';

@Module({
  imports: [
    ConfigModule,
    BusModule.forRootAsync({
      inject: [ROUTER_CONFIG, DataSource],
      useFactory: (config: RouterConfig, dataSource: DataSource) => ({
        // Task results from runners (and requests) may arrive claim-checked; the router's own messages go through the outbox.
        claimStore: PostgresClaimStore.forDataSource(dataSource),
        claimThresholdBytes: config.claimThresholdBytes,
        brokers: config.kafkaBrokers,
        clientId: 'router',
        groupId: 'router',
        topicPrefix: config.topicPrefix,
        sessionTimeoutMs: config.kafkaSessionTimeoutMs,
        partitionsConsumedConcurrently: config.consumerConcurrency,
        topics: [TOPICS.workflowRequests, TOPICS.workflowEvents, TOPICS.tasksAssigned, TOPICS.tasksResults, TOPICS.agentHeartbeats],
      }),
    }),
    PersistenceModule.forRootAsync({
      inject: [ROUTER_CONFIG],
      useFactory: (config: RouterConfig) => ({
        url: config.databaseUrl,
        schema: config.dbSchema,
        claims: { claimThresholdBytes: config.claimThresholdBytes, retentionDays: config.claimRetentionDays },
        entities: [WorkflowEntity, WorkflowStepEntity, WorkflowDefinitionEntity, AgentEntity],
        migrations: ROUTER_MIGRATIONS,
      }),
    }),
    WorkflowsModule,
  ],
  controllers: [HealthController],
  providers: [
    // The outbox relay publishes through the bus.
    { provide: OUTBOX_PUBLISHER, useExisting: KafkaBus },
    {
      provide: HTTP_API_KEYS,
      inject: [ROUTER_CONFIG],
      useFactory: (config: RouterConfig): ApiKeySettings => ({ keys: config.apiKeys }),
    },
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_FILTER, useClass: HttpErrorFilter },
  ],
})
export class AppModule {}
