// `@baton/bus/testing`: test-only helpers, excluded from the library build.
export { RawKafka, type RawMessage, type RawOutgoing } from './raw-kafka';
