import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import neo4j from 'neo4j-driver';
import { KafkaBus, WakeSignal } from '@baton/bus';
import { CONTEXT_GRAPH_CONFIG, type ContextGraphConfig } from '../config/context-graph-config';
import { GraphDatabase } from '../graph/neo4j';
import { GraphModel } from '../graph/graph-model';

const BATCH = 500;
const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 10_000;

const READ_PENDING = `
MATCH (p:PendingPush)
WHERE p.ns = $ns AND p.seq IS NOT NULL
RETURN p.uid AS uid, p.topic AS topic, p.key AS key, p.value AS value, p.headers AS headers
ORDER BY p.seq
LIMIT $limit`;

const DELETE_PUBLISHED = 'UNWIND $batch.uids AS uid MATCH (p:PendingPush {uid: uid}) DELETE p';

interface PendingRow {
  uid: string;
  topic: string;
  key: string;
  value: string;
  headers: string;
}

/**
 * Publishes the pushes committed with their facts (the push outbox), oldest first, at least once: a record is
 * deleted only after Kafka acknowledged it, so a crash in between publishes it again under the same envelope id,
 * which consumers dedupe. Woken right after each commit that recorded pushes; polls as a fallback (records left by
 * a crashed process, or committed by another instance of the namespace).
 *
 * Several instances of one namespace may each relay: there is no single publisher. That can only duplicate a
 * record (same envelope id), never lose one, and order does not matter here: each update is self-contained (one
 * fact for one task, with its own occurredAt/recordedAt), and facts reach the graph over many partitions with no
 * order between them to begin with.
 */
@Injectable()
export class PushRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PushRelay');
  private readonly wakeSignal = new WakeSignal();
  private readonly stopSignal = new WakeSignal();
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly db: GraphDatabase,
    private readonly model: GraphModel,
    private readonly bus: KafkaBus,
    @Inject(CONTEXT_GRAPH_CONFIG) private readonly config: ContextGraphConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    // The first round runs at once: whatever a crashed predecessor committed is published before new work.
    this.loop = this.run();
  }

  /** Lets a round in progress finish (publish and delete); what is still pending waits for the next start. */
  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wakeSignal.notify();
    this.stopSignal.notify();
    await this.loop;
  }

  /** Called after a commit that recorded pushes. */
  wake(): void {
    this.wakeSignal.notify();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        const published = await this.relayBatch();
        failures = 0;
        if (published === 0) await this.wakeSignal.wait(this.config.pushPollMs);
      } catch (error) {
        failures += 1;
        const delayMs = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (failures - 1));
        this.logger.warn({
          msg: 'push relay round failed; retrying from the same record',
          failures,
          delayMs,
          error: error instanceof Error ? error.message : String(error),
        });
        await this.stopSignal.wait(delayMs);
      }
    }
  }

  private async relayBatch(): Promise<number> {
    const result = await this.db.read((tx) => tx.run(READ_PENDING, { ns: this.model.namespace, limit: neo4j.int(BATCH) }));
    if (result.records.length === 0) return 0;
    const rows = result.records.map((record) => record.toObject() as unknown as PendingRow);
    await this.bus.publishRecords(
      rows.map((row) => ({
        topic: row.topic,
        key: row.key,
        value: row.value,
        headers: JSON.parse(row.headers) as Record<string, string>,
      })),
    );
    await this.db.write((tx) => tx.run(DELETE_PUBLISHED, { batch: { uids: rows.map((row) => row.uid) } }));
    this.logger.debug?.({ msg: 'context updates pushed', count: rows.length });
    return rows.length;
  }
}
