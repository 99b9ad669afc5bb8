import { type DynamicModule, Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { ModuleMetadata } from '@nestjs/common';
import { KafkaBus } from '@baton/bus';
import { PostgresClaimStore } from '../claims/postgres-claim-store';

/** The service's claim store, or null when it has no database (it then handles only payloads that travel inline). */
export const CLAIM_STORE = Symbol('CLAIM_STORE');

export interface ClaimStoreModuleOptions {
  /** Where claims live; none: claim-checked messages cannot be read (they go to the DLQ, naming why). */
  databaseUrl: string | undefined;
  /** Names the pool's connections in pg_stat_activity. */
  applicationName: string;
}

export interface ClaimStoreModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
  useFactory: (...args: never[]) => ClaimStoreModuleOptions | Promise<ClaimStoreModuleOptions>;
}

/**
 * A claim store for a service without a DataSource of its own: the bus reads
 * claim-checked messages with it (and writes large outgoing ones). Imported by
 * the bus module's factory, which needs the store when it builds the bus.
 */
@Global()
@Module({})
export class ClaimStoreModule {
  static forRootAsync(options: ClaimStoreModuleAsyncOptions): DynamicModule {
    return {
      module: ClaimStoreModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide: CLAIM_STORE,
          inject: options.inject ?? [],
          useFactory: async (...args: never[]): Promise<PostgresClaimStore | null> => {
            const { databaseUrl, applicationName } = await options.useFactory(...args);
            return databaseUrl === undefined ? null : PostgresClaimStore.connect(databaseUrl, applicationName);
          },
        },
      ],
      exports: [CLAIM_STORE],
    };
  }
}

/** Closes the pool only after the bus stopped, so no in-flight claim read or write loses its connection. */
@Injectable()
export class ClaimStoreShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(CLAIM_STORE) private readonly store: PostgresClaimStore | null,
    private readonly bus: KafkaBus,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.bus.disconnect();
    await this.store?.close();
  }
}
