import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { BusModule } from '@baton/bus';
import { TOPICS } from '@baton/contracts';
import { ApiKeyGuard, HTTP_API_KEYS, HttpErrorFilter, type ApiKeySettings } from '@baton/http';
import { CLAIM_STORE, ClaimStoreModule, ClaimStoreShutdown, type PostgresClaimStore } from '@baton/persistence';
import { ConfigModule } from './config/config.module';
import { CONTEXT_GRAPH_CONFIG, type ContextGraphConfig } from './config/context-graph-config';
import { FactIngestion } from './facts/fact-ingestion.service';
import { FactStore } from './facts/fact-store';
import { FactsConsumer } from './facts/facts.consumer';
import { SystemEventsConsumer } from './facts/system-events.consumer';
import { GraphModel } from './graph/graph-model';
import { GraphDatabase } from './graph/neo4j';
import { HealthController } from './health/health.controller';
import { ContextController } from './http/context.controller';
import { PushOutbox } from './push/push-outbox';
import { PushRelay } from './push/push-relay';
import { TasksConsumer } from './push/tasks.consumer';
import { AccessLog } from './queries/access-log';
import { ContextQueries } from './queries/context-queries.service';
import { QueriesConsumer } from './queries/queries.consumer';

@Module({
  imports: [
    ConfigModule,
    BusModule.forRootAsync({
      imports: [
        ClaimStoreModule.forRootAsync({
          imports: [ConfigModule],
          inject: [CONTEXT_GRAPH_CONFIG],
          useFactory: (config: ContextGraphConfig) => ({ databaseUrl: config.databaseUrl, applicationName: 'baton-context-graph-claims' }),
        }),
      ],
      inject: [CONTEXT_GRAPH_CONFIG, CLAIM_STORE],
      useFactory: (config: ContextGraphConfig, claimStore: PostgresClaimStore | null) => ({
        // Workflow events over the router's inline threshold arrive as claim checks.
        ...(claimStore ? { claimStore } : {}),
        brokers: config.kafkaBrokers,
        clientId: 'context-graph',
        groupId: 'context-graph',
        topicPrefix: config.topicPrefix,
        topics: [TOPICS.contextFacts, TOPICS.contextUpdates, TOPICS.contextQueries, TOPICS.workflowEvents, TOPICS.systemEvents],
      }),
    }),
  ],
  controllers: [HealthController, ContextController],
  providers: [
    ClaimStoreShutdown,
    GraphDatabase,
    GraphModel,
    FactStore,
    FactIngestion,
    PushOutbox,
    PushRelay,
    ContextQueries,
    AccessLog,
    FactsConsumer,
    SystemEventsConsumer,
    QueriesConsumer,
    TasksConsumer,
    {
      provide: HTTP_API_KEYS,
      inject: [CONTEXT_GRAPH_CONFIG],
      useFactory: (config: ContextGraphConfig): ApiKeySettings => ({
        keys: config.apiKeys,
        scopes: config.apiKeyScopes,
      }),
    },
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_FILTER, useClass: HttpErrorFilter },
  ],
})
export class AppModule {}
