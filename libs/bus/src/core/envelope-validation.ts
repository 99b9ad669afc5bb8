import {
  ContractValidationError,
  type Envelope,
  type MessageContract,
  type ParsedEnvelope,
  findContract,
  parseEnvelope,
  serializeEnvelope,
} from '@baton/contracts';

/**
 * Validates an envelope about to be sent exactly as a consumer will read it:
 * serialised, then parsed back against the registry and the contract's topic.
 * A hand-made envelope that createEnvelope would have refused cannot slip out.
 */
export function encodeOutgoing<P>(contract: MessageContract<P>, envelope: Envelope<P>): Buffer {
  if (envelope.type !== contract.type || envelope.version !== contract.version) {
    throw new ContractValidationError(
      [`type: envelope is ${String(envelope.type)}@${String(envelope.version)}, contract is ${contract.type}@${contract.version}`],
      `cannot publish on ${contract.topic}`,
    );
  }
  const value = serializeEnvelope(envelope);
  parseEnvelope(contract.topic, value);
  return value;
}

function peekTypeVersion(raw: Buffer): { type: string; version: number } | undefined {
  try {
    const json: unknown = JSON.parse(raw.toString('utf8'));
    if (typeof json !== 'object' || json === null) return undefined;
    const { type, version } = json as { type?: unknown; version?: unknown };
    return typeof type === 'string' && typeof version === 'number' ? { type, version } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Replies travel on a private topic, so they are validated by (type, version)
 * against the registry, whatever topic their contract normally lives on.
 */
export function parseReply(raw: Buffer | null): ParsedEnvelope {
  const peeked = raw === null ? undefined : peekTypeVersion(raw);
  const contract = peeked ? findContract(peeked.type, peeked.version) : undefined;
  return parseEnvelope(contract?.topic ?? '(reply)', raw);
}
