import { type DynamicModule, type FactoryProvider, Logger, Module, type ModuleMetadata } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { createServiceDataSource, type ServiceDataSourceOptions } from '../data-source/create-service-data-source';
import { initializeDataSource } from '../data-source/initialize-data-source';
import { Inbox } from '../inbox/inbox';
import { Outbox } from '../outbox/outbox';
import type { OutboxClaimOptions } from '../outbox/outbox-claims';
import { ClaimRetention, type ClaimRetentionOptions } from './claim-retention';
import { OutboxRelay, type OutboxRelayOptions } from '../outbox/outbox-relay';
import { PersistenceHealth } from './persistence-health';
import { lazyOutboxPublisher, PersistenceLifecycle } from './persistence-lifecycle';
import { PERSISTENCE_OPTIONS } from './persistence.tokens';

export interface PersistenceModuleOptions extends ServiceDataSourceOptions {
  relay?: Pick<OutboxRelayOptions, 'batchSize' | 'pollIntervalMs' | 'retryBaseMs' | 'retryMaxMs'>;
  /** Claim checks of the outbox (threshold) and the retention of the shared claims table. */
  claims?: OutboxClaimOptions & ClaimRetentionOptions;
}

export interface PersistenceModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  useFactory: (...args: never[]) => PersistenceModuleOptions | Promise<PersistenceModuleOptions>;
}

/**
 * Global: the service's DataSource (initialized and migrated during module
 * init), Outbox, Inbox, the OutboxRelay (started on bootstrap, stopped on
 * shutdown; call app.enableShutdownHooks()) and PersistenceHealth.
 */
@Module({})
export class PersistenceModule {
  static forRootAsync(options: PersistenceModuleAsyncOptions): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        {
          provide: PERSISTENCE_OPTIONS,
          inject: options.inject ?? [],
          useFactory: (...args: unknown[]) => options.useFactory(...(args as never[])),
        },
        {
          provide: DataSource,
          inject: [PERSISTENCE_OPTIONS],
          useFactory: (moduleOptions: PersistenceModuleOptions) => initializeDataSource(createServiceDataSource(moduleOptions)),
        },
        {
          provide: Outbox,
          inject: [PERSISTENCE_OPTIONS],
          useFactory: (moduleOptions: PersistenceModuleOptions) => new Outbox(moduleOptions.claims),
        },
        { provide: Inbox, useValue: new Inbox() },
        {
          provide: OutboxRelay,
          inject: [DataSource, PERSISTENCE_OPTIONS, ModuleRef],
          useFactory: (dataSource: DataSource, moduleOptions: PersistenceModuleOptions, moduleRef: ModuleRef) =>
            new OutboxRelay(dataSource, lazyOutboxPublisher(moduleRef), {
              ...moduleOptions.relay,
              logger: new Logger(OutboxRelay.name),
            }),
        },
        PersistenceHealth,
        PersistenceLifecycle,
        ClaimRetention,
      ],
      exports: [DataSource, Outbox, Inbox, OutboxRelay, PersistenceHealth, ClaimRetention],
    };
  }
}
