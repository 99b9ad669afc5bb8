import type { z } from 'zod';
import type { Envelope } from '../envelope/envelope';
import type { TopicName } from '../topics/topics';

/**
 * One message kind: its event name, payload schema version, the topic it lives
 * on and how its Kafka key is chosen. Event names are string constants, never
 * class names, so renaming code never changes the wire.
 */
export interface MessageContract<P = unknown> {
  readonly type: string;
  readonly version: number;
  readonly topic: TopicName;
  readonly summary: string;
  readonly payload: z.ZodType<P>;
  readonly key: (envelope: Envelope<P>) => string;
}

export function defineMessage<P>(definition: {
  type: string;
  version: number;
  topic: TopicName;
  summary: string;
  payload: z.ZodType<P>;
  key: (envelope: Envelope<NoInfer<P>>) => string;
}): MessageContract<P> {
  return Object.freeze({ ...definition });
}

export type PayloadOf<C> = C extends MessageContract<infer P> ? P : never;
