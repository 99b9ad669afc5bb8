import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import neo4j, { type Driver, type ManagedTransaction } from 'neo4j-driver';
import { CONTEXT_GRAPH_CONFIG, type ContextGraphConfig } from '../config/context-graph-config';
import { GRAPH_MIGRATIONS, type GraphMigration } from './graph-migrations';

/** A statement with parameters that take it through its plan; what it writes is rolled back. */
export interface Rehearsal {
  name: string;
  cypher: string;
  params: Record<string, unknown>;
}

/**
 * The Neo4j driver of this service; runs the graph migrations before the app serves anything.
 *
 * Planning is what makes a statement slow the first time: Neo4j took 0.8-2 s to plan the batch write, and it keys its
 * plan cache on the size of every list and string parameter (rounded to a power of ten) as well as on the query text.
 * So the statements of the write and push paths take their variable data in one map parameter, which carries no size:
 * one plan serves every batch. And they are rehearsed at start-up (see rehearse), so the first fact or push after a
 * start does not pay for planning.
 */
@Injectable()
export class GraphDatabase implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('GraphDatabase');
  private readonly rehearsals = new Set<Promise<void>>();
  readonly driver: Driver;

  constructor(@Inject(CONTEXT_GRAPH_CONFIG) config: ContextGraphConfig) {
    this.driver = neo4j.driver(config.neo4j.uri, neo4j.auth.basic(config.neo4j.user, config.neo4j.password), {
      disableLosslessIntegers: true,
      maxConnectionPoolSize: 50,
      connectionAcquisitionTimeout: 30_000,
    });
  }

  async onModuleInit(): Promise<void> {
    await migrateGraph(this.driver, GRAPH_MIGRATIONS, (migration) =>
      this.logger.log({ msg: 'graph migration applied', version: migration.version, name: migration.name }),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.rehearsals]);
    await this.driver.close();
  }

  /**
   * Runs each statement once, in a transaction that is rolled back, so Neo4j has planned and cached it before real work
   * needs it. In the background: start-up does not wait, and a real statement that comes first simply plans itself.
   * A failed rehearsal costs only the first real use its planning, so it is logged, not thrown.
   */
  rehearse(rehearsals: readonly Rehearsal[]): void {
    const run = (async () => {
      for (const rehearsal of rehearsals) {
        await this.rehearseOne(rehearsal).catch((error: unknown) =>
          this.logger.warn({
            msg: 'statement rehearsal failed',
            statement: rehearsal.name,
            error: String(error),
          }),
        );
      }
    })();
    this.rehearsals.add(run);
    void run.finally(() => this.rehearsals.delete(run));
  }

  read<T>(work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    return withSession(this.driver, 'READ', work);
  }

  write<T>(work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    return withSession(this.driver, 'WRITE', work);
  }

  private async rehearseOne(rehearsal: Rehearsal): Promise<void> {
    const session = this.driver.session({ defaultAccessMode: neo4j.session.WRITE });
    const tx = session.beginTransaction();
    try {
      await tx.run(rehearsal.cypher, rehearsal.params);
    } finally {
      if (tx.isOpen()) await tx.rollback();
      await session.close();
    }
  }

  async isReady(): Promise<boolean> {
    try {
      await this.driver.verifyConnectivity();
      return true;
    } catch {
      return false;
    }
  }
}

async function withSession<T>(driver: Driver, mode: 'READ' | 'WRITE', work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
  const session = driver.session({
    defaultAccessMode: mode === 'READ' ? neo4j.session.READ : neo4j.session.WRITE,
  });
  try {
    return mode === 'READ' ? await session.executeRead(work) : await session.executeWrite(work);
  } finally {
    await session.close();
  }
}

/**
 * `IF NOT EXISTS` is checked before the schema transaction commits, so two processes starting at once on a fresh
 * server can both pass it, and the later commit fails as "an equivalent index already exists": what it asked for is
 * there, so that is success.
 */
async function applySchemaStatement(driver: Driver, statement: string): Promise<void> {
  try {
    await driver.executeQuery(statement);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists') return;
    throw error;
  }
}

/** Applies the migrations not yet recorded; schema statements cannot share a transaction with writes, so each runs alone. */
export async function migrateGraph(
  driver: Driver,
  migrations: readonly GraphMigration[],
  onApplied: (migration: GraphMigration) => void = () => undefined,
): Promise<number[]> {
  const applied: number[] = [];
  const done = await driver.executeQuery('MATCH (m:GraphMigration) RETURN m.version AS version');
  const recorded = new Set(done.records.map((record) => Number(record.get('version'))));
  for (const migration of migrations) {
    if (recorded.has(migration.version)) continue;
    for (const statement of migration.statements) await applySchemaStatement(driver, statement);
    await driver.executeQuery('MERGE (m:GraphMigration {version: $version}) ON CREATE SET m.name = $name, m.appliedAt = datetime()', {
      version: migration.version,
      name: migration.name,
    });
    applied.push(migration.version);
    onApplied(migration);
  }
  // Index population is asynchronous; queries right after start-up must see the full-text index online.
  await driver.executeQuery('CALL db.awaitIndexes(300)');
  return applied;
}
