import { Client, type Notification } from 'pg';
import type { DataSource } from 'typeorm';
import { WakeSignal } from '@baton/bus';
import { advisoryLockKey, outboxChannel, qualifiedName, quoteIdentifier } from '../data-source/identifiers';
import { pgClientConfig } from '../data-source/pg-client-config';
import { schemaOf } from '../data-source/postgres-schema';
import { type CommittedOutboxRow, type OutboxHandoffTarget, registerHandoffTarget, unregisterHandoffTarget } from './outbox-handoff';
import type { OutboxPublisher, OutboxRecord } from './outbox-publisher';
import { retryDelay } from './retry-delay';

/** Nest's Logger fits this shape. */
export interface OutboxRelayLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface OutboxRelayOptions {
  /** Rows read and published per round trip. Default 100. */
  batchSize?: number;
  /** Fallback wake-up when no NOTIFY arrives (and standby lock retry). Default 500 ms. */
  pollIntervalMs?: number;
  /** First delay after a failed publish or lost connection, doubled up to retryMaxMs. Default 200 ms. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /**
   * Rows committed through this relay's own DataSource are handed to it at
   * commit instead of being announced by NOTIFY and read back. Default true.
   */
  handOff?: boolean;
  logger?: OutboxRelayLogger;
}

interface OutboxRow {
  seq: string;
  topic: string;
  message_key: string;
  value: Buffer;
  headers: Record<string, string>;
}

type BatchOutcome = 'empty' | 'published' | 'publish-failed';

const MAX_ERROR_LENGTH = 2000;
/** Seqs published from a read, remembered so a late hand-off of the same rows is not sent again. */
const REMEMBERED_SEQS = 10_000;
/** Handed-over rows held in memory at most, in batches; beyond that they are left to the read path. */
const MAX_HANDED_BATCHES = 10;

const consoleLogger: OutboxRelayLogger = {
  log: (message) => console.log(message),
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};

function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}

/**
 * Publishes committed outbox rows in `seq` order, at least once.
 *
 * One relay per schema publishes at a time: it holds a session advisory lock
 * on its own connection, so per-key order survives several instances; the
 * others stand by and take over when the holder's connection dies. A row is
 * marked published only after the publisher resolved, so a crash in between
 * republishes it (consumers dedupe through the inbox). A failing publish is
 * retried from the same row with backoff: nothing is ever skipped.
 *
 * Two ways rows reach it. Rows its own process commits are handed over at
 * commit (outbox-handoff.ts) and published in commit order, which for one key
 * is seq order (a key's rows are written under the same lock, one transaction
 * after the other). Everything else — other processes' rows, rows left by a
 * crash, a backlog after a failed publish — is read from the table, oldest seq
 * first, on NOTIFY, at each poll and until the backlog is empty. The table is
 * always the truth: a hand-off is only a shortcut past reading it back.
 */
export class OutboxRelay implements OutboxHandoffTarget {
  private readonly schema: string;
  private readonly table: string;
  private readonly channel: string;
  private readonly lockKey: string;
  private readonly applicationName: string;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly handOffEnabled: boolean;
  private readonly logger: OutboxRelayLogger;

  private running = false;
  private loop: Promise<void> | undefined;
  private client: Client | undefined;
  private leader = false;
  /** Woken by NOTIFY, by a hand-off and by stop(). */
  private wake = new WakeSignal();
  /** Committed rows handed over and not published yet, in commit order. */
  private handed: CommittedOutboxRow[] = [];
  /** The table must be read: at start, on NOTIFY or poll, after a failure, until a read comes back empty. */
  private readDue = true;
  private lastReadAt = 0;
  private readonly publishedByRead = new Set<string>();
  /**
   * Published, not marked yet: marks are coalesced while hand-offs keep coming (one UPDATE per batch of rows, not per
   * commit) and always written before a read or a sleep, so a read never mistakes them for unpublished. A crash
   * before the mark republishes them, as a crash between publish and mark always could.
   */
  private unmarked: string[] = [];
  /** Woken by stop() only: a backoff must not be cut short by new messages. */
  private stopping = new WakeSignal();

  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: OutboxPublisher,
    options: OutboxRelayOptions = {},
  ) {
    this.schema = schemaOf(dataSource);
    this.table = qualifiedName(this.schema, 'outbox_messages');
    this.channel = outboxChannel(this.schema);
    this.lockKey = advisoryLockKey('outbox-relay', this.schema);
    const base = dataSource.options.type === 'postgres' ? dataSource.options.applicationName : undefined;
    this.applicationName = `${base ?? `baton-${this.schema}`}-outbox-relay`;
    this.batchSize = options.batchSize ?? 100;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.retryBaseMs = options.retryBaseMs ?? 200;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
    this.handOffEnabled = options.handOff ?? true;
    this.logger = options.logger ?? consoleLogger;
  }

  get acceptsHandoff(): boolean {
    return this.handOffEnabled && this.running && this.leader;
  }

  handOff(rows: readonly CommittedOutboxRow[]): boolean {
    if (!this.acceptsHandoff) return false;
    if (this.handed.length >= this.batchSize * MAX_HANDED_BATCHES) {
      // Publishing is behind (or failing): memory stays bounded, the rows wait in the table and the next read takes them.
      this.readDue = true;
    } else {
      for (const row of rows) if (!this.publishedByRead.has(row.seq)) this.handed.push(row);
    }
    this.wake.notify();
    return true;
  }

  /** Whether this instance currently holds the schema's publishing lock. */
  get isLeader(): boolean {
    return this.leader;
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.loop) return;
    this.running = true;
    this.wake = new WakeSignal();
    this.stopping = new WakeSignal();
    this.readDue = true;
    if (this.handOffEnabled) registerHandoffTarget(this.dataSource, this);
    this.loop = this.run();
  }

  /** Lets an in-flight batch finish (publish and mark), then releases the lock and the connection. */
  async stop(): Promise<void> {
    const loop = this.loop;
    if (!loop) return;
    this.running = false;
    unregisterHandoffTarget(this.dataSource, this);
    this.wake.notify();
    this.stopping.notify();
    await loop;
    this.loop = undefined;
    // Handed rows not sent yet are still unpublished in the table: the next publisher reads them.
    this.handed = [];
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        const client = await this.connect();
        if (!this.leader) {
          this.leader = await this.tryLock(client);
          if (!this.leader) {
            await this.wake.wait(this.pollIntervalMs);
            continue;
          }
          this.logger.log(`outbox relay for schema ${this.schema} is now the publisher`);
          this.readDue = true;
        }
        let outcome: BatchOutcome = 'empty';
        // Under a steady stream of hand-offs the relay never sleeps: it still reads once per poll interval (a lost NOTIFY).
        if (Date.now() - this.lastReadAt >= this.pollIntervalMs) this.readDue = true;
        if (this.readDue) {
          await this.markPublished(client);
          outcome = await this.relayBatch(client);
        } else if (this.handed.length > 0) outcome = await this.relayHanded(client);
        switch (outcome) {
          case 'published':
            failures = 0;
            if (this.handed.length === 0 || this.unmarked.length >= this.batchSize) await this.markPublished(client);
            break;
          case 'empty':
            failures = 0;
            if (this.handed.length > 0) break;
            await this.markPublished(client);
            // A wake-up is a NOTIFY (which makes reading due), a hand-off or stop(); a quiet poll interval reads anyway.
            if (!(await this.wake.wait(this.pollIntervalMs))) this.readDue = true;
            break;
          case 'publish-failed':
            failures += 1;
            await this.stopping.wait(this.backoff(failures));
            break;
        }
      } catch (error) {
        // Lost connection (and with it the lock) or a failed query: start over on a new session.
        this.readDue = true;
        failures += 1;
        this.logger.error(`outbox relay for schema ${this.schema}: ${describeError(error)}`);
        await this.disconnect();
        if (this.running) await this.stopping.wait(this.backoff(failures));
      }
    }
    if (this.client && this.leader) await this.markPublished(this.client).catch(() => undefined);
    await this.disconnect();
  }

  private backoff(failures: number): number {
    return retryDelay(failures, { baseMs: this.retryBaseMs, maxMs: this.retryMaxMs });
  }

  /** Reads the oldest unpublished rows and publishes them; reading stays due until a read finds none. */
  private async relayBatch(client: Client): Promise<BatchOutcome> {
    this.readDue = false;
    this.lastReadAt = Date.now();
    const { rows } = await client.query<OutboxRow>(
      `SELECT seq, topic, message_key, value, headers FROM ${this.table}
       WHERE published_at IS NULL ORDER BY seq LIMIT $1`,
      [this.batchSize],
    );
    if (rows.length === 0) return 'empty';
    const outcome = await this.publish(
      client,
      rows.map((row) => ({ seq: row.seq, topic: row.topic, key: row.message_key, value: row.value, headers: row.headers })),
    );
    if (outcome === 'published') {
      const seqs = new Set(rows.map((row) => row.seq));
      // Rows of this process read before their hand-off arrived: never send them twice.
      this.handed = this.handed.filter((row) => !seqs.has(row.seq));
      for (const seq of seqs) this.publishedByRead.add(seq);
      for (const seq of this.publishedByRead) {
        if (this.publishedByRead.size <= REMEMBERED_SEQS) break;
        this.publishedByRead.delete(seq);
      }
    }
    this.readDue = true;
    return outcome;
  }

  /** Publishes handed-over rows in commit order; after a failure the table is read again, from the oldest row. */
  private async relayHanded(client: Client): Promise<BatchOutcome> {
    const rows = this.handed.splice(0, this.batchSize);
    const outcome = await this.publish(client, rows);
    if (outcome === 'publish-failed') {
      this.handed = [];
      this.readDue = true;
    }
    return outcome;
  }

  private async publish(client: Client, rows: readonly CommittedOutboxRow[]): Promise<BatchOutcome> {
    const seqs = rows.map((row) => row.seq);
    const records: OutboxRecord[] = rows.map(({ topic, key, value, headers }) => ({ topic, key, value, headers }));
    try {
      await this.publisher.publishRecords(records);
    } catch (error) {
      const message = describeError(error);
      await client.query(`UPDATE ${this.table} SET attempts = attempts + 1, last_error = $2 WHERE seq = ANY($1::bigint[])`, [
        seqs,
        message,
      ]);
      this.logger.warn(
        `outbox relay for schema ${this.schema}: publishing ${rows.length} message(s) from seq ${seqs[0] ?? '?'} failed, retrying: ${message}`,
      );
      return 'publish-failed';
    }
    this.unmarked.push(...seqs);
    return 'published';
  }

  private async markPublished(client: Client): Promise<void> {
    if (this.unmarked.length === 0) return;
    // Kept until the UPDATE succeeds: after a lost connection they are marked first, not read back and sent again.
    await client.query(
      `UPDATE ${this.table} SET published_at = now(), attempts = attempts + 1, last_error = NULL
       WHERE seq = ANY($1::bigint[])`,
      [this.unmarked],
    );
    this.unmarked = [];
  }

  private async connect(): Promise<Client> {
    if (this.client) return this.client;
    const client = new Client(pgClientConfig(this.dataSource, this.applicationName));
    client.on('error', (error: Error) => {
      // An idle connection died: the lock went with it. Without this listener pg would crash the process.
      this.logger.warn(`outbox relay for schema ${this.schema} lost its connection: ${describeError(error)}`);
      if (this.client === client) {
        this.client = undefined;
        this.loseLeadership();
      }
      client.end().catch(() => undefined);
      this.wake.notify();
    });
    client.on('notification', (notification: Notification) => {
      if (notification.channel !== this.channel) return;
      this.readDue = true;
      this.wake.notify();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdentifier(this.channel)}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    return client;
  }

  private async tryLock(client: Client): Promise<boolean> {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [this.lockKey]);
    return rows[0]?.locked === true;
  }

  /** Closing the session releases the advisory lock and the LISTEN. */
  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.loseLeadership();
    if (client) await client.end().catch(() => undefined);
  }

  /**
   * Without the lock, rows handed over are no longer this relay's to send:
   * another publisher may send (and mark) them meanwhile, and sending them
   * after taking the lock back would repeat them behind newer rows of their
   * keys. Unpublished ones wait in the table for whoever publishes next.
   */
  private loseLeadership(): void {
    this.leader = false;
    this.handed = [];
  }
}
