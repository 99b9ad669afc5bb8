import type { ClaimStoreKind } from '@baton/contracts';

/** One stored payload: the bytes a claim check's `payloadRef` points at. */
export interface Claim {
  id: string;
  /** The payload's UTF-8 JSON. */
  data: Buffer;
  sha256: string;
  /** Logical topic and message type, for operators looking at the store. */
  topic: string;
  type: string;
}

/**
 * Where payloads too big for Kafka are kept. The bus only needs these two
 * operations; @baton/persistence implements them on Postgres, so the bus never
 * depends on a database. `put` must be durable when it resolves: the reference
 * is published right after.
 */
export interface ClaimStore {
  readonly kind: ClaimStoreKind;
  put(claim: Claim): Promise<void>;
  /** undefined when there is no claim with that id. */
  get(id: string): Promise<Buffer | undefined>;
}
