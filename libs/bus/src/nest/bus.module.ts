import { type DynamicModule, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { KafkaBus } from '../core/kafka-bus';
import { BatonKafkaTransport } from './baton-kafka.transport';
import { BUS_MODULE_OPTIONS, type BusModuleAsyncOptions, type BusModuleOptions } from './bus-module-options';

/** Disconnects the bus of an app that never started the transport (or after it). */
@Injectable()
class BusShutdown implements OnApplicationShutdown {
  constructor(private readonly bus: KafkaBus) {}

  async onApplicationShutdown(): Promise<void> {
    await this.bus.disconnect();
  }
}

async function connectBus(options: BusModuleOptions): Promise<KafkaBus> {
  const bus = new KafkaBus(options);
  await bus.connect();
  if (options.topics !== undefined && options.topics.length > 0) await bus.ensureTopics(options.topics);
  return bus;
}

/** Global: provides a connected KafkaBus (topics ensured) and the BatonKafkaTransport. */
@Module({})
export class BusModule {
  static forRootAsync(options: BusModuleAsyncOptions): DynamicModule {
    return {
      module: BusModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        { provide: BUS_MODULE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        { provide: KafkaBus, useFactory: connectBus, inject: [BUS_MODULE_OPTIONS] },
        BatonKafkaTransport,
        BusShutdown,
      ],
      exports: [KafkaBus, BatonKafkaTransport, BUS_MODULE_OPTIONS],
    };
  }
}
