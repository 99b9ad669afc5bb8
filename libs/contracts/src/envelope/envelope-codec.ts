import type { MessageContract } from '../messages/message-contract';
import { findContract } from '../messages/registry';
import { type Envelope, type EnvelopeHeader, type EnvelopeMeta, envelopeSchema, newEnvelopeId } from './envelope';
import { ContractValidationError, describeIssues } from './validation-error';

/**
 * Builds an envelope for a contract, validating the payload first: an invalid
 * message cannot be constructed, so it can never be published.
 */
export function createEnvelope<P>(contract: MessageContract<P>, payload: P, meta: EnvelopeMeta): Envelope<P> {
  const parsed = contract.payload.safeParse(payload);
  if (!parsed.success) {
    throw new ContractValidationError(describeIssues(parsed.error, 'payload'), `invalid ${contract.type}@${contract.version}`);
  }
  const envelope = {
    id: meta.id ?? newEnvelopeId(),
    type: contract.type,
    version: contract.version,
    occurredAt: meta.occurredAt ?? new Date().toISOString(),
    source: meta.source,
    correlationId: meta.correlationId,
    ...(meta.causationId !== undefined ? { causationId: meta.causationId } : {}),
    ...(meta.workflowId !== undefined ? { workflowId: meta.workflowId } : {}),
    ...(meta.stepId !== undefined ? { stepId: meta.stepId } : {}),
    ...(meta.agentId !== undefined ? { agentId: meta.agentId } : {}),
    ...(meta.team !== undefined ? { team: meta.team } : {}),
    payload: parsed.data,
  };
  const header = envelopeSchema.safeParse(envelope);
  if (!header.success) {
    throw new ContractValidationError(describeIssues(header.error), `invalid envelope for ${contract.type}`);
  }
  return envelope;
}

/** The Kafka key of an envelope, chosen by its contract for per-entity ordering. */
export function envelopeKey<P>(contract: MessageContract<P>, envelope: Envelope<P>): string {
  return contract.key(envelope);
}

export function serializeEnvelope(envelope: Envelope): Buffer {
  return Buffer.from(JSON.stringify(envelope), 'utf8');
}

export interface ParsedEnvelope {
  envelope: Envelope;
  contract: MessageContract;
}

/** An envelope whose header, (type, version) and topic are valid; its payload is not validated yet. */
export interface DecodedEnvelope {
  topic: string;
  header: EnvelopeHeader;
  contract: MessageContract;
  /** As read; null when `header.payloadRef` says the payload travels by reference. */
  payload: unknown;
}

/**
 * Parses and validates raw bytes read from the logical `topic`: JSON, the envelope, a known
 * (type, version) that belongs on this topic, and its payload. Throws
 * ContractValidationError naming every offending field. A claim-checked
 * envelope (`payloadRef`) is refused here: its payload must be fetched first
 * (decodeEnvelope, then completeEnvelope), which @baton/bus does.
 */
export function parseEnvelope(topic: string, raw: Buffer | string | null): ParsedEnvelope {
  const decoded = decodeEnvelope(topic, raw);
  if (decoded.header.payloadRef !== undefined) {
    throw new ContractValidationError(
      [
        `payloadRef: the payload of this ${decoded.contract.type} is a claim check (${decoded.header.payloadRef.store} claim ${decoded.header.payloadRef.id}); read it through @baton/bus with a claim store`,
      ],
      `unresolved claim check on ${topic}`,
    );
  }
  return completeEnvelope(decoded, decoded.payload);
}

/** The first half of parseEnvelope: everything but the payload. */
export function decodeEnvelope(topic: string, raw: Buffer | string | null): DecodedEnvelope {
  if (raw === null || raw.length === 0) {
    throw new ContractValidationError(['(root): empty message'], `invalid message on ${topic}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch (error) {
    throw new ContractValidationError([`(root): not JSON (${(error as Error).message})`], `invalid message on ${topic}`);
  }
  const header = envelopeSchema.safeParse(json);
  if (!header.success) {
    throw new ContractValidationError(describeIssues(header.error), `invalid envelope on ${topic}`);
  }
  const { payload, ...fields } = header.data;
  if (fields.payloadRef !== undefined && payload !== null) {
    throw new ContractValidationError(['payload: must be null when payloadRef is set'], `invalid envelope on ${topic}`);
  }
  const contract = findContract(fields.type, fields.version);
  if (!contract) {
    throw new ContractValidationError([`type: unknown message ${fields.type}@${fields.version}`], `invalid envelope on ${topic}`);
  }
  // `topic` is the logical name: deployments and tests prefix wire names, the bus strips the prefix.
  if (topic !== contract.topic) {
    throw new ContractValidationError([`type: ${contract.type} belongs on ${contract.topic}`], `invalid envelope on ${topic}`);
  }
  return { topic, header: fields, contract, payload };
}

/**
 * The second half: validates `payload` (the inline one, or the one a claim
 * check resolved to) against the contract. The result never carries a payloadRef.
 */
export function completeEnvelope(decoded: DecodedEnvelope, payload: unknown): ParsedEnvelope {
  const { contract, topic } = decoded;
  const parsed = contract.payload.safeParse(payload);
  if (!parsed.success) {
    throw new ContractValidationError(describeIssues(parsed.error, 'payload'), `invalid ${contract.type}@${contract.version} on ${topic}`);
  }
  const { payloadRef: _resolved, ...header } = decoded.header;
  return { envelope: { ...header, payload: parsed.data }, contract };
}
