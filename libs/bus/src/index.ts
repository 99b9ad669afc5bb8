export * from './core/bus-config';
export * from './core/bus-logger';
export * from './core/bus-types';
export * from './core/errors';
export { KafkaBus } from './core/kafka-bus';
export { HEADERS, decodeHeaders } from './core/message-headers';
export { BusClosedError } from './core/reply-inbox';
export { BatonContext } from './nest/baton-context';
export { BatonKafkaTransport, UnsupportedTransportFeatureError } from './nest/baton-kafka.transport';
export {
  BUS_MODULE_OPTIONS,
  type BusModuleAsyncOptions,
  type BusModuleOptions,
} from './nest/bus-module-options';
export { BusModule } from './nest/bus.module';
export { InvalidEventPatternError } from './nest/event-route';
export { RpcErrorPassthroughFilter } from './nest/rpc-error-passthrough';
