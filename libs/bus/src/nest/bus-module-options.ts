import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';
import type { BusConfig } from '../core/bus-config';

export interface BusModuleOptions extends BusConfig {
  /** The consumer group of this service's BatonKafkaTransport. */
  groupId: string;
  /** Logical topics created (with their DLQs) at bootstrap. */
  topics?: readonly string[];
  /**
   * Partitions the transport handles at once (order within a partition is kept).
   * Default 1; raise it only for handlers that are safe to run concurrently.
   */
  partitionsConsumedConcurrently?: number;
}

export interface BusModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  /** `never[]` accepts a factory of any parameters, resolved from `inject`. */
  useFactory: (...args: never[]) => BusModuleOptions | Promise<BusModuleOptions>;
}

export const BUS_MODULE_OPTIONS = Symbol('BUS_MODULE_OPTIONS');
