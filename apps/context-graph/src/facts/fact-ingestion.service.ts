import { Inject, Injectable } from '@nestjs/common';
import type { FactView } from '@baton/contracts';
import { CONTEXT_GRAPH_CONFIG, type ContextGraphConfig } from '../config/context-graph-config';
import { GraphModel } from '../graph/graph-model';
import { PushService } from '../push/push.service';
import type { FactInput } from './fact-record';
import { FactStore } from './fact-store';

interface Pending {
  fact: FactInput;
  resolve: (created: FactView | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Micro-batches facts arriving together (concurrent partitions, HTTP requests) into one graph transaction:
 * a caller's promise settles when its batch is written and pushed, so Kafka offsets are committed only after.
 */
@Injectable()
export class FactIngestion {
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: FactStore,
    private readonly model: GraphModel,
    private readonly push: PushService,
    @Inject(CONTEXT_GRAPH_CONFIG) private readonly config: ContextGraphConfig,
  ) {}

  /** Validates kinds and types against this deployment's model, then records; resolves the fact if it was new. */
  ingest(fact: FactInput, path = 'payload'): Promise<FactView | undefined> {
    this.model.assertKnown(fact.body, path);
    return new Promise((resolve, reject) => {
      this.queue.push({ fact, resolve, reject });
      this.flushing ??= new Promise<void>((done) => setImmediate(done)).then(() => this.flush());
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.config.batchMax);
      try {
        const created = await this.store.writeBatch(batch.map((pending) => pending.fact));
        await this.push.onFactsRecorded(created);
        const byId = new Map(created.map((fact) => [fact.id, fact]));
        for (const pending of batch) pending.resolve(byId.get(pending.fact.id));
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    this.flushing = undefined;
  }
}
