import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { PersistenceConfigError } from '../errors';
import type { OutboxPublisher, OutboxRecord } from '../outbox/outbox-publisher';
import { OutboxRelay } from '../outbox/outbox-relay';
import { OUTBOX_PUBLISHER } from './persistence.tokens';

/** Finds the app's OUTBOX_PUBLISHER binding in any module. */
export function resolveOutboxPublisher(moduleRef: ModuleRef): OutboxPublisher {
  try {
    return moduleRef.get<OutboxPublisher>(OUTBOX_PUBLISHER, { strict: false });
  } catch {
    throw new PersistenceConfigError(
      'no provider for OUTBOX_PUBLISHER: bind one in the application, e.g. { provide: OUTBOX_PUBLISHER, useExisting: KafkaBus }',
    );
  }
}

/**
 * The relay is built while modules are still being instantiated, before the
 * app's publisher necessarily exists, so it gets a publisher that resolves the
 * binding on first use (after bootstrap checked it is there).
 */
export function lazyOutboxPublisher(moduleRef: ModuleRef): OutboxPublisher {
  let resolved: OutboxPublisher | undefined;
  return {
    publishRecords(records: readonly OutboxRecord[]): Promise<void> {
      resolved ??= resolveOutboxPublisher(moduleRef);
      return resolved.publishRecords(records);
    },
  };
}

/** Starts the relay once the app is up; stops it before the publisher and pool go away. */
@Injectable()
export class PersistenceLifecycle implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  constructor(
    @Inject(OutboxRelay) private readonly relay: OutboxRelay,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  onApplicationBootstrap(): void {
    // Fail the start, not the first publish, when the binding is missing.
    resolveOutboxPublisher(this.moduleRef);
    this.relay.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.relay.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay.stop();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
