import { type DynamicModule, type FactoryProvider, Logger, Module, type ModuleMetadata } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import {
  createServiceDataSource,
  type ServiceDataSourceOptions,
} from '../data-source/create-service-data-source';
import { initializeDataSource } from '../data-source/initialize-data-source';
import { Inbox } from '../inbox/inbox';
import { Outbox } from '../outbox/outbox';
import { OutboxRelay, type OutboxRelayOptions } from '../outbox/outbox-relay';
import { PersistenceHealth } from './persistence-health';
import { lazyOutboxPublisher, PersistenceLifecycle } from './persistence-lifecycle';
import { PERSISTENCE_OPTIONS } from './persistence.tokens';

export interface PersistenceModuleOptions extends ServiceDataSourceOptions {
  relay?: Pick<OutboxRelayOptions, 'batchSize' | 'pollIntervalMs' | 'retryBaseMs' | 'retryMaxMs'>;
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
          useFactory: (moduleOptions: PersistenceModuleOptions) =>
            initializeDataSource(createServiceDataSource(moduleOptions)),
        },
        { provide: Outbox, useValue: new Outbox() },
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
      ],
      exports: [DataSource, Outbox, Inbox, OutboxRelay, PersistenceHealth],
    };
  }
}
