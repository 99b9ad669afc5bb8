import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { KafkaBus } from '@baton/bus';
import { RawKafka } from '@baton/bus/testing';
import { type Envelope, type MessageContract, TOPICS, createEnvelope, contextFactRecorded, type FactBody } from '@baton/contracts';
import { clearNeo4jPrefix, freePort, testInfra, uniqueName } from '@baton/testing';
import { AppModule } from '../src/app.module';

export const READER_KEY = 'reader-key-without-any-scope';
export const TRUSTED_KEY = 'trusted-key-with-customer-data';

/** One context-graph instance in this process, isolated by a topic prefix that is also its graph namespace. */
export class Harness {
  readonly prefix = `${uniqueName('cg')}.`;
  readonly infra = testInfra();
  readonly brokers = this.infra.kafka.brokers;
  readonly bus = new KafkaBus({ brokers: this.brokers, clientId: 'cg-test', topicPrefix: this.prefix });
  readonly raw = new RawKafka(this.brokers);
  app: INestApplication | undefined;
  baseUrl = '';

  /** `setEnv` applies the app's environment (the spec owns process.env; the app reads it once through its config). */
  async start(setEnv: (env: Record<string, string>) => void, extraEnv: Record<string, string> = {}): Promise<void> {
    const port = await freePort();
    setEnv({
      NEO4J_URI: this.infra.neo4j.uri,
      NEO4J_USER: this.infra.neo4j.user,
      NEO4J_PASSWORD: this.infra.neo4j.password,
      KAFKA_BROKERS: this.brokers.join(','),
      BATON_TOPIC_PREFIX: this.prefix,
      BATON_API_KEYS: `${READER_KEY},${TRUSTED_KEY}`,
      CONTEXT_API_KEY_SCOPES: `${TRUSTED_KEY}=customer-data`,
      CONTEXT_ENTITY_KINDS: 'Repository',
      BATON_LOG_LEVEL: 'warn',
      ...extraEnv,
    });
    await this.bus.connect();
    await this.bus.ensureTopics([TOPICS.contextFacts, TOPICS.contextUpdates, TOPICS.contextQueries, TOPICS.workflowEvents]);
    const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: ['error'] });
    app.useBodyParser('json', { limit: '64kb' });
    app.enableShutdownHooks();
    await app.listen(port, '127.0.0.1');
    this.app = app;
    this.baseUrl = `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    await this.bus.disconnect();
    await this.raw.close();
    await clearNeo4jPrefix(this.prefix, { property: 'uid', infra: this.infra });
  }

  async publish<P>(contract: MessageContract<P>, envelope: Envelope<P>): Promise<void> {
    await this.bus.publish(contract, envelope);
  }

  factEnvelope(
    body: Partial<FactBody> & Pick<FactBody, 'about'>,
    meta: { agentId?: string; workflowId?: string; occurredAt?: string } = {},
  ) {
    return createEnvelope(contextFactRecorded, { confidence: 0.9, scopes: [], ...body } as FactBody, {
      source: 'cg-test',
      correlationId: meta.workflowId ?? 'cg-test',
      ...meta,
    });
  }

  async http(
    method: string,
    path: string,
    options: { key?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ) {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(options.key !== undefined ? { authorization: `Bearer ${options.key}` } : {}),
        ...(options.body !== undefined || options.rawBody !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      ...(options.rawBody !== undefined
        ? { body: options.rawBody }
        : options.body !== undefined
          ? { body: JSON.stringify(options.body) }
          : {}),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
    };
  }
}
