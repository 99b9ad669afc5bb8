import { Inject, Injectable, Logger } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { type CustomTransportStrategy, type MessageHandler, Server } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { ConsumedMessage } from '../core/bus-types';
import { KafkaBus } from '../core/kafka-bus';
import { BatonContext } from './baton-context';
import { BUS_MODULE_OPTIONS, type BusModuleOptions } from './bus-module-options';
import { RouteTable, parseEventRoute } from './event-route';
import { installRpcErrorPassthrough } from './rpc-error-passthrough';

export class UnsupportedTransportFeatureError extends Error {
  override readonly name = 'UnsupportedTransportFeatureError';
}

/**
 * Serves `@EventPattern(topic)` and `@EventPattern({ topic, type })` handlers
 * from one consumer group over KafkaBus: the validated envelope is the
 * payload, a BatonContext the context, and the offset is committed only after
 * the handler's Promise or Observable completes. Failures follow the bus's
 * retry / dead-letter rules.
 *
 *   app.connectMicroservice({ strategy: app.get(BatonKafkaTransport) });
 *   await app.startAllMicroservices();
 */
@Injectable()
export class BatonKafkaTransport extends Server implements CustomTransportStrategy {
  private readonly log = new Logger(BatonKafkaTransport.name);

  constructor(
    private readonly bus: KafkaBus,
    @Inject(BUS_MODULE_OPTIONS) private readonly options: BusModuleOptions,
    modules: ModulesContainer,
  ) {
    super();
    installRpcErrorPassthrough(modules);
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  private async start(): Promise<void> {
    const routes = this.buildRoutes();
    const topics = routes.topics();
    if (topics.length === 0) {
      this.log.warn('no @EventPattern handlers found; not consuming');
      return;
    }
    await this.bus.subscribe({
      groupId: this.options.groupId,
      topics,
      handler: (message) => this.dispatch(routes, message),
      ...(this.options.partitionsConsumedConcurrently !== undefined
        ? { partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently }
        : {}),
    });
    this.log.log(`consuming ${topics.join(', ')} as group ${this.options.groupId}`);
  }

  private buildRoutes(): RouteTable<MessageHandler> {
    const routes = new RouteTable<MessageHandler>();
    for (const [pattern, handler] of this.messageHandlers) {
      if (!handler.isEventHandler) {
        this.log.warn(`@MessagePattern ${pattern} is not served: use KafkaBus.request/reply for request-response`);
        continue;
      }
      routes.add(parseEventRoute(pattern), handler);
    }
    return routes;
  }

  private async dispatch(routes: RouteTable<MessageHandler>, message: ConsumedMessage): Promise<void> {
    const handlers = routes.match(message.topic, message.envelope.type);
    if (handlers.length === 0) {
      this.log.debug(`no handler for ${message.envelope.type} on ${message.topic}; skipped`);
      return;
    }
    const context = new BatonContext(message);
    for (const handler of handlers) {
      const result: unknown = await handler(message.envelope, context);
      // Resolves when an Observable completes; its error (the handler's) rejects.
      await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
    }
  }

  /** Graceful: consumers stop, in-flight handlers finish and commit, then the producer disconnects. */
  async close(): Promise<void> {
    await this.bus.disconnect();
  }

  on(): never {
    throw new UnsupportedTransportFeatureError('BatonKafkaTransport emits no events; observe KafkaBus instead');
  }

  unwrap<T>(): T {
    return this.bus as unknown as T;
  }
}
