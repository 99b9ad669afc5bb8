import { Global, Inject, Injectable, Module, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { KafkaBus } from '@baton/bus';
import { PostgresClaimStore } from '@baton/persistence';
import { ConfigModule } from '../config/config.module';
import { RUNNER_CONFIG, type RunnerConfig } from '../config/runner-config';

/** The runner's claim store, or null when it has no DATABASE_URL (it then handles small payloads only). */
export const CLAIM_STORE = Symbol('CLAIM_STORE');

export const claimStoreProvider: Provider = {
  provide: CLAIM_STORE,
  inject: [RUNNER_CONFIG],
  useFactory: async (config: RunnerConfig): Promise<PostgresClaimStore | null> =>
    config.databaseUrl === undefined
      ? null
      : PostgresClaimStore.connect(config.databaseUrl, `baton-agent-runner-${config.instanceId}-claims`),
};

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

/** Built before the bus, which needs the store when it is constructed. */
@Global()
@Module({ imports: [ConfigModule], providers: [claimStoreProvider], exports: [CLAIM_STORE] })
export class ClaimsModule {}
