import type { MessageContract } from '@baton/contracts';
import { BaseRpcContext } from '@nestjs/microservices';
import type { ConsumedMessage } from '../core/bus-types';

/** What `@Ctx()` gives a Baton event handler; the envelope itself is the `@Payload()`. */
export class BatonContext extends BaseRpcContext<[ConsumedMessage]> {
  /** Logical topic name, without the configured prefix. */
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly contract: MessageContract;

  constructor(readonly message: ConsumedMessage) {
    super([message]);
    this.topic = message.topic;
    this.partition = message.partition;
    this.offset = message.offset;
    this.key = message.key;
    this.headers = message.headers;
    this.contract = message.contract;
  }
}
