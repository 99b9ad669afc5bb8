import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONTEXT_GRAPH_CONFIG, type ContextGraphConfig } from '../config/context-graph-config';
import { GraphModel } from '../graph/graph-model';
import { PushRelay } from '../push/push-relay';
import type { FactInput } from './fact-record';
import { FactStore } from './fact-store';

interface Pending {
  fact: FactInput;
  resolve: (created: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * Micro-batches facts arriving together (concurrent partitions, HTTP requests) into one graph transaction:
 * a caller's promise settles when its batch committed (with its pushes, which the relay publishes), so Kafka
 * offsets are committed only after.
 */
@Injectable()
export class FactIngestion {
  private queue: Pending[] = [];
  private scheduled = false;
  private inFlight = 0;
  /** A batch that must not overlap another is being written; nothing else starts until it settles. */
  private aloneInFlight = false;
  private readonly logger = new Logger('FactIngestion');

  constructor(
    private readonly store: FactStore,
    private readonly model: GraphModel,
    private readonly relay: PushRelay,
    @Inject(CONTEXT_GRAPH_CONFIG) private readonly config: ContextGraphConfig,
  ) {}

  /** Validates kinds and types against this deployment's model, then records; resolves whether the fact was new. */
  ingest(fact: FactInput, path = 'payload'): Promise<boolean> {
    this.model.assertKnown(fact.body, path);
    return new Promise((resolve, reject) => {
      this.queue.push({ fact, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // One turn of the event loop lets facts arriving together (concurrent partitions) join the batch.
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /**
   * Batches start in arrival order, up to `writesInFlight` at once (a second one only once a full batch is queued, so
   * a light load still gets one transaction per turn, not many small ones). A batch that needs earlier ones
   * committed runs alone: one superseding a fact must find it committed, and relationships it records must be in the
   * graph before a later fact's push looks for what depends on what. A batch without either changes nothing an
   * overlapping batch reads.
   */
  private pump(): void {
    while (this.queue.length > 0 && !this.aloneInFlight && this.inFlight < this.config.writesInFlight) {
      if (this.inFlight > 0 && this.queue.length < this.config.batchMax) return;
      const alone = this.queue
        .slice(0, this.config.batchMax)
        .some(({ fact }) => fact.body.relationship !== undefined || fact.body.supersedes !== undefined);
      if (alone && this.inFlight > 0) return;
      const batch = this.queue.splice(0, this.config.batchMax);
      this.inFlight += 1;
      this.aloneInFlight = alone;
      void this.write(batch).finally(() => {
        this.inFlight -= 1;
        if (alone) this.aloneInFlight = false;
        this.pump();
      });
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    try {
      const { created, pushes } = await this.store.writeBatch(batch.map((pending) => pending.fact));
      if (pushes > 0) {
        if (this.config.testCrashAt === 'after-facts-commit') this.crash(pushes);
        this.relay.wake();
      }
      const ids = new Set(created);
      for (const pending of batch) pending.resolve(ids.has(pending.fact.id));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }

  /** The test switch CONTEXT_TEST_CRASH_AT: dies like a killed pod, between the commit and any publish. */
  private crash(pushes: number): never {
    this.logger.warn({
      msg: 'test crash point reached: killing the process',
      at: 'after-facts-commit',
      pushes,
    });
    process.kill(process.pid, 'SIGKILL');
    throw new Error('unreachable: SIGKILL was sent');
  }
}
