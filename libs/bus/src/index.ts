export * from './core/bus-config';
export * from './core/bus-logger';
export * from './core/bus-types';
export type { Claim, ClaimStore } from './core/claim-store';
export {
  DEFAULT_CLAIM_THRESHOLD_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  MessageTooLargeError,
  planOutgoing,
  type OutgoingPlan,
} from './core/claim-check';
export * from './core/errors';
export { KafkaBus } from './core/kafka-bus';
export { HEADERS, decodeHeaders } from './core/message-headers';
export { BusClosedError } from './core/reply-inbox';
export { WakeSignal } from './core/wake-signal';
export { BatonContext } from './nest/baton-context';
export { BatonKafkaTransport, UnsupportedTransportFeatureError } from './nest/baton-kafka.transport';
export { BUS_MODULE_OPTIONS, type BusModuleAsyncOptions, type BusModuleOptions } from './nest/bus-module-options';
export { BusModule } from './nest/bus.module';
export { InvalidEventPatternError } from './nest/event-route';
export { RpcErrorPassthroughFilter } from './nest/rpc-error-passthrough';
