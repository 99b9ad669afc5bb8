import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { pruneClaims } from '../claims/postgres-claim-store';
import { PERSISTENCE_OPTIONS } from './persistence.tokens';

export interface ClaimRetentionOptions {
  /**
   * Claims older than this are deleted. Default 7 days: Kafka's default log retention, so a message
   * still on its topic (a replay, a lagging consumer) still finds its claim.
   */
  retentionDays?: number;
  /** How often the delete runs. Default hourly. */
  pruneIntervalMs?: number;
}

const DAY_MS = 86_400_000;

/**
 * Keeps the shared claims table bounded. Every service with persistence runs
 * it; concurrent deletes of the same old rows are harmless, and no service has
 * to be "the" janitor.
 */
@Injectable()
export class ClaimRetention implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ClaimRetention.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly retentionMs: number;
  private readonly intervalMs: number;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(PERSISTENCE_OPTIONS) options: { claims?: ClaimRetentionOptions },
  ) {
    this.retentionMs = (options.claims?.retentionDays ?? 7) * DAY_MS;
    this.intervalMs = options.claims?.pruneIntervalMs ?? 3_600_000;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.pruneNow(), this.intervalMs);
    this.timer.unref();
    void this.pruneNow();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Returns how many claims were deleted; a failure is logged and tried again next round. */
  async pruneNow(): Promise<number> {
    if (this.running) return 0;
    let count = 0;
    this.running = (async () => {
      try {
        count = await pruneClaims(this.dataSource, new Date(Date.now() - this.retentionMs));
        if (count > 0) this.logger.log({ msg: 'expired claims deleted', count });
      } catch (error) {
        this.logger.warn({ msg: 'claim retention failed; retrying next round', error: String(error) });
      } finally {
        this.running = undefined;
      }
    })();
    await this.running;
    return count;
  }
}
