import { z } from 'zod';
import { envelopeSchema, payloadRefSchema } from '../envelope/envelope';
import { jsonValueSchema } from '../messages/common';
import { cloudEventSchema, CLOUDEVENTS_JSON_CONTENT_TYPE } from '../messages/cloud-events/cloud-event';
import type { MessageContract } from '../messages/message-contract';
import { MESSAGE_CONTRACTS } from '../messages/registry';
import { DLQ_SUFFIX, TOPIC_CATALOGUE, TOPICS, type TopicName, type TopicSpec } from '../topics/topics';

/**
 * The AsyncAPI 3.0 description of every Baton topic, generated from the topic
 * catalogue and the message contracts so it cannot drift from the code.
 * `npm run asyncapi` writes it to libs/contracts/asyncapi.yaml.
 */

export type AsyncApiObject = { [key: string]: unknown };

export interface AsyncApiDocument {
  asyncapi: '3.0.0';
  info: AsyncApiObject;
  defaultContentType: string;
  servers: Record<string, AsyncApiObject>;
  channels: Record<string, AsyncApiObject>;
  operations: Record<string, AsyncApiObject>;
  components: { schemas: Record<string, AsyncApiObject>; messages: Record<string, AsyncApiObject> };
}

/** Bumped by hand when the document's shape (not a contract) changes. */
const DOCUMENT_VERSION = '0.1.0';
const KAFKA_BINDING_VERSION = '0.5.0';
const DEAD_LETTER_CHANNEL = 'deadLetters';
const DEAD_LETTER_MESSAGE = 'dead-letter';
const CLOUDEVENT_STRUCTURED_MESSAGE = 'cloudevent.structured';
const CLOUDEVENT_BINARY_MESSAGE = 'cloudevent.binary';
const SCHEMA_IDS = {
  jsonValue: 'JsonValue',
  payloadRef: 'PayloadRef',
  cloudEvent: 'CloudEvent',
  envelopeHeaders: 'EnvelopeKafkaHeaders',
  cloudEventHeaders: 'CloudEventBinaryHeaders',
  deadLetterHeaders: 'DeadLetterKafkaHeaders',
} as const;

/** AsyncAPI component keys allow only `[A-Za-z0-9.\-_]`, so `type@version` becomes `type.vN`. */
export function asyncApiMessageKey(contract: Pick<MessageContract, 'type' | 'version'>): string {
  return `${contract.type}.v${contract.version}`;
}

export function buildAsyncApiDocument(): AsyncApiDocument {
  const channelIds = channelIdsByTopic();
  const contracts = [...MESSAGE_CONTRACTS].sort((a, b) => compare(asyncApiMessageKey(a), asyncApiMessageKey(b)));

  const channels: Record<string, AsyncApiObject> = {};
  const operations: Record<string, AsyncApiObject> = {};
  for (const spec of Object.values(TOPIC_CATALOGUE)) {
    const channelId = channelIds.get(spec.name);
    if (channelId === undefined) throw new Error(`topic ${spec.name} is not in TOPICS`);
    const messageKeys =
      spec.format === 'cloudevents'
        ? [CLOUDEVENT_BINARY_MESSAGE, CLOUDEVENT_STRUCTURED_MESSAGE]
        : contracts.filter((contract) => contract.topic === spec.name).map(asyncApiMessageKey);
    channels[channelId] = topicChannel(spec, messageKeys);
    addOperations(operations, channelId, spec, messageKeys);
  }
  channels[DEAD_LETTER_CHANNEL] = deadLetterChannel(channelIds);
  addDeadLetterOperations(operations);

  const messages: Record<string, AsyncApiObject> = {};
  for (const contract of contracts) messages[asyncApiMessageKey(contract)] = contractMessage(contract);
  messages[CLOUDEVENT_BINARY_MESSAGE] = cloudEventBinaryMessage();
  messages[CLOUDEVENT_STRUCTURED_MESSAGE] = cloudEventStructuredMessage();
  messages[DEAD_LETTER_MESSAGE] = deadLetterMessage();

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Baton messaging',
      version: DOCUMENT_VERSION,
      description: DOCUMENT_DESCRIPTION,
    },
    defaultContentType: 'application/json',
    servers: {
      kafka: {
        host: '{brokers}',
        protocol: 'kafka',
        description: 'Any Kafka cluster; services read the bootstrap brokers from KAFKA_BROKERS.',
        variables: {
          brokers: { default: 'localhost:9092', description: 'Comma-separated bootstrap brokers.' },
        },
      },
    },
    channels,
    operations,
    components: { schemas: buildSchemas(contracts), messages: sortKeys(messages) },
  };
}

const DOCUMENT_DESCRIPTION = `Every topic Baton services publish and consume. Services talk only through Kafka.

**Envelope.** Every message on a Baton topic is one JSON envelope: \`id\` (uuid, the idempotency key), \`type\`,
\`version\`, \`occurredAt\`, \`source\`, \`correlationId\` (the workflow), \`causationId\`, optional \`workflowId\`,
\`stepId\`, \`agentId\`, \`team\`, and \`payload\`, whose schema is fixed by (\`type\`, \`version\`). A consumer
rejects unknown (type, version) pairs and messages on the wrong topic.

**Claim checks.** A message whose serialized envelope is over the publisher's threshold (256 KiB by default) does
not carry its payload: \`payload\` is null and \`payloadRef\` (schema \`${SCHEMA_IDS.payloadRef}\`, versioned by its own
\`version\`) names where it is: \`store: postgres\` is the table \`baton_claims.claims\` (columns \`id\`, \`data\`) of the
Baton database, holding the payload's UTF-8 JSON; \`bytes\` and \`sha256\` are its length and digest. @baton/bus
resolves references before validation, so handlers never see one; a consumer that cannot (no store, claim gone,
digest mismatch) dead-letters the message. The payload schemas below describe the payload once resolved. Claims are
deleted after 7 days (the services' retention setting). External agents either read that table or keep their
results under the threshold.

**Keys** are chosen for ordering (see each channel's \`x-keyed-by\`): one entity's messages land on one partition.

**Tracing.** W3C trace context travels in the \`traceparent\` / \`tracestate\` headers.

**Dead letters.** A record that fails validation or exhausts its retries is never dropped: it goes, unchanged,
to \`<topic>.dlq\` (channel \`${DEAD_LETTER_CHANNEL}\`) with \`baton-dlq-*\` headers saying why and where from.

**System events.** \`${TOPICS.systemEvents}\` is written by systems Baton does not own and speaks CloudEvents 1.0
over the Kafka protocol binding (binary or structured mode) instead of the envelope.

**Request/reply.** A request (\`context.query.requested\`, \`human.question.asked\`) carries the Kafka headers
\`baton-reply-to\` (the requester's private reply topic) and \`baton-request-id\`. The answerer sends its reply
envelope to that topic with the same \`baton-request-id\` header; replies are validated by (type, version), whatever
channel their contract lists as home. A human answer (\`human.question.answered\`) is such a reply: the asking agent
reads it only from its reply topic, so an inbox answers without knowing who asked, and may publish the same
envelope on \`${TOPICS.approvalsDecisions}\` as the record. A reply after the request's deadline (\`expiresAt\`)
reaches nobody.

**External agents.** An agent written in any language joins by speaking three topics, nothing else:
(1) publish \`agent.heartbeat\` on \`${TOPICS.agentHeartbeats}\` (key: its agent id) every few seconds with its
capabilities, scopes, maxConcurrency and live inFlight, so the router's registry can assign to it; (2) consume
\`${TOPICS.tasksAssigned}\` in a consumer group of its own, take \`task.assigned\` messages whose \`agentId\` is its id
(or, without one, whose capability it has), ignore every other type, and abandon an attempt on
\`task.cancel_requested\`; (3) publish \`task.completed\` (output, confidence 0..1, usage) or \`task.failed\`
(error code, retryable) on \`${TOPICS.tasksResults}\` (key: workflow id), with an envelope id derived from the task
id so a redelivered task is deduplicated. Optionally it reports spend as \`usage.recorded\` on
\`${TOPICS.governanceUsage}\`. Validate what you send against the schemas below: a message that fails them is
dead-lettered, not applied.

Deployments may prefix every topic name (tests do, for isolation); addresses here are unprefixed.`;

function topicChannel(spec: TopicSpec, messageKeys: readonly string[]): AsyncApiObject {
  return {
    address: spec.name,
    title: spec.name,
    description: spec.summary,
    'x-keyed-by': spec.keyedBy,
    'x-format': spec.format,
    'x-dead-letter-topic': `${spec.name}${DLQ_SUFFIX}`,
    messages: Object.fromEntries(messageKeys.map((key) => [key, { $ref: `#/components/messages/${key}` }])),
    bindings: {
      kafka: {
        topic: spec.name,
        partitions: spec.partitions,
        topicConfiguration: { 'cleanup.policy': [spec.compacted ? 'compact' : 'delete'] },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
}

function deadLetterChannel(channelIds: ReadonlyMap<TopicName, string>): AsyncApiObject {
  return {
    address: `{topic}${DLQ_SUFFIX}`,
    title: `<topic>${DLQ_SUFFIX}`,
    description:
      'Dead letters of each topic: the failed record exactly as read (key, value and headers), plus baton-dlq-* ' +
      'headers. Never compacted; one partition keeps failures in order. Operators inspect and replay them.',
    parameters: {
      topic: {
        description: 'The topic the record failed on.',
        enum: [...channelIds.keys()],
      },
    },
    messages: { [DEAD_LETTER_MESSAGE]: { $ref: `#/components/messages/${DEAD_LETTER_MESSAGE}` } },
    bindings: {
      kafka: {
        partitions: 1,
        topicConfiguration: { 'cleanup.policy': ['delete'] },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
}

function addOperations(
  operations: Record<string, AsyncApiObject>,
  channelId: string,
  spec: TopicSpec,
  messageKeys: readonly string[],
): void {
  const roles: Array<{ action: 'send' | 'receive'; services: readonly string[] }> = [
    { action: 'send', services: spec.producers },
    { action: 'receive', services: spec.consumers },
  ];
  for (const { action, services } of roles) {
    for (const service of services) {
      addOperation(operations, `${slug(service)}.${action}.${channelId}`, {
        action,
        channel: { $ref: `#/channels/${channelId}` },
        summary: `${service} ${action === 'send' ? 'publishes to' : 'consumes'} ${spec.name}.`,
        'x-service': service,
        messages: messageKeys.map((key) => ({ $ref: `#/channels/${channelId}/messages/${key}` })),
      });
    }
  }
}

function addDeadLetterOperations(operations: Record<string, AsyncApiObject>): void {
  const channel = { $ref: `#/channels/${DEAD_LETTER_CHANNEL}` };
  const messages = [{ $ref: `#/channels/${DEAD_LETTER_CHANNEL}/messages/${DEAD_LETTER_MESSAGE}` }];
  addOperation(operations, `bus.send.${DEAD_LETTER_CHANNEL}`, {
    action: 'send',
    channel,
    summary: 'Every consumer (through @baton/bus) dead-letters records it cannot handle.',
    'x-service': 'every service',
    messages,
  });
  addOperation(operations, `operators.receive.${DEAD_LETTER_CHANNEL}`, {
    action: 'receive',
    channel,
    summary: 'Operators inspect dead letters and replay them to the source topic.',
    'x-service': 'operators',
    messages,
  });
}

function addOperation(operations: Record<string, AsyncApiObject>, id: string, operation: AsyncApiObject): void {
  if (operations[id] !== undefined) throw new Error(`duplicate AsyncAPI operation id ${id}`);
  operations[id] = operation;
}

function contractMessage(contract: MessageContract): AsyncApiObject {
  const key = asyncApiMessageKey(contract);
  const topic = TOPIC_CATALOGUE[contract.topic];
  return {
    name: contract.type,
    title: `${contract.type} v${contract.version}`,
    summary: contract.summary,
    contentType: 'application/json',
    'x-version': contract.version,
    'x-message-id': `${contract.type}@${contract.version}`,
    headers: { $ref: `#/components/schemas/${SCHEMA_IDS.envelopeHeaders}` },
    payload: { $ref: `#/components/schemas/${key}` },
    bindings: {
      kafka: {
        key: { type: 'string', description: topic.keyedBy },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
}

function cloudEventStructuredMessage(): AsyncApiObject {
  return {
    name: CLOUDEVENT_STRUCTURED_MESSAGE,
    title: 'CloudEvent, structured mode',
    summary: `The whole event as JSON in the value; header content-type: ${CLOUDEVENTS_JSON_CONTENT_TYPE}.`,
    contentType: CLOUDEVENTS_JSON_CONTENT_TYPE,
    headers: {
      type: 'object',
      properties: {
        'content-type': {
          type: 'string',
          pattern: `^${CLOUDEVENTS_JSON_CONTENT_TYPE.replace(/[+.]/g, '\\$&')}`,
        },
      },
      required: ['content-type'],
    },
    payload: { $ref: `#/components/schemas/${SCHEMA_IDS.cloudEvent}` },
    bindings: {
      kafka: {
        key: { type: 'string', description: 'source entity id' },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
}

function cloudEventBinaryMessage(): AsyncApiObject {
  return {
    name: CLOUDEVENT_BINARY_MESSAGE,
    title: 'CloudEvent, binary mode',
    summary: 'Attributes in ce_* headers, datacontenttype in content-type, the event data as the value.',
    description:
      'JSON data (content-type application/json, */*+json, or none) is parsed; text/* is read as text; ' +
      'anything else is kept as bytes (data_base64).',
    headers: { $ref: `#/components/schemas/${SCHEMA_IDS.cloudEventHeaders}` },
    payload: { description: 'The event data, in the media type named by content-type.' },
    bindings: {
      kafka: {
        key: { type: 'string', description: 'source entity id' },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
}

function deadLetterMessage(): AsyncApiObject {
  return {
    name: DEAD_LETTER_MESSAGE,
    title: 'Dead letter',
    summary: 'A record that could not be handled, with the reason.',
    headers: { $ref: `#/components/schemas/${SCHEMA_IDS.deadLetterHeaders}` },
    payload: { description: 'The failed record value, byte for byte (it may not be valid JSON).' },
    bindings: {
      kafka: {
        key: { type: 'string', description: 'the failed record key' },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
}

const string = (description: string, extra: AsyncApiObject = {}): AsyncApiObject => ({
  type: 'string',
  description,
  ...extra,
});

function traceHeaderProperties(): AsyncApiObject {
  return {
    traceparent: string('W3C trace context of the producing span.', {
      pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
    }),
    tracestate: string('W3C trace state (vendor data), when present.'),
  };
}

function headerSchemas(): Record<string, AsyncApiObject> {
  const ceHeader = (attribute: string): AsyncApiObject => string(`CloudEvents attribute ${attribute}.`);
  return {
    [SCHEMA_IDS.envelopeHeaders]: {
      type: 'object',
      description: 'Kafka headers @baton/bus writes on envelope records.',
      properties: {
        ...traceHeaderProperties(),
        'content-type': string('Always application/json.', { const: 'application/json' }),
        'baton-type': string('The envelope type, for routing without parsing the value.'),
        'baton-version': string('The envelope version, as a decimal string.', { pattern: '^[1-9][0-9]*$' }),
      },
    },
    [SCHEMA_IDS.cloudEventHeaders]: {
      type: 'object',
      description:
        'CloudEvents Kafka binding, binary mode. Extension attributes travel as ce_<name> headers ' +
        '(names: lower-case letters and digits).',
      properties: {
        ce_specversion: string('CloudEvents version.', { const: '1.0' }),
        ce_id: ceHeader('id'),
        ce_source: ceHeader('source (URI-reference)'),
        ce_type: ceHeader('type'),
        ce_subject: ceHeader('subject'),
        ce_time: string('CloudEvents attribute time (RFC 3339).', { format: 'date-time' }),
        ce_dataschema: string('CloudEvents attribute dataschema (absolute URI).', { format: 'uri' }),
        'content-type': string('CloudEvents attribute datacontenttype (RFC 2046 media type).'),
        ...traceHeaderProperties(),
      },
      required: ['ce_specversion', 'ce_id', 'ce_source', 'ce_type'],
      patternProperties: { '^ce_[a-z0-9]+$': { type: 'string' } },
    },
    [SCHEMA_IDS.deadLetterHeaders]: {
      type: 'object',
      description: 'The failed record headers, unchanged, plus these.',
      properties: {
        'baton-dlq-reason': string('Why it failed; validation errors name every offending field.'),
        'baton-dlq-source-topic': string('The topic it was read from (as prefixed on this cluster).'),
        'baton-dlq-source-partition': string('Its partition there.', { pattern: '^[0-9]+$' }),
        'baton-dlq-source-offset': string('Its offset there.', { pattern: '^[0-9]+$' }),
        'baton-dlq-attempts': string('Handling attempts made.', { pattern: '^[0-9]+$' }),
        'baton-dlq-failed-at': string('When it was dead-lettered.', { format: 'date-time' }),
      },
      required: ['baton-dlq-reason', 'baton-dlq-source-topic'],
    },
  };
}

/**
 * Payload schemas as JSON Schema draft-07 (AsyncAPI's schema format is a
 * superset). One zod registry conversion puts shared recursive types (JSON
 * values) under components/schemas and points at them with $ref, which a
 * per-message conversion could only do with `#/definitions`, unresolvable here.
 */
function buildSchemas(contracts: readonly MessageContract[]): Record<string, AsyncApiObject> {
  const registry = z.registry<{ id: string }>();
  registry.add(jsonValueSchema, { id: SCHEMA_IDS.jsonValue });
  registry.add(cloudEventSchema, { id: SCHEMA_IDS.cloudEvent });
  registry.add(payloadRefSchema, { id: SCHEMA_IDS.payloadRef });
  for (const contract of contracts) {
    const envelope = envelopeSchema.extend({
      type: z.literal(contract.type),
      version: z.literal(contract.version),
      payload: contract.payload,
    });
    registry.add(envelope, { id: asyncApiMessageKey(contract) });
  }
  const generated = z.toJSONSchema(registry, {
    target: 'draft-07',
    io: 'input',
    uri: (id) => `#/components/schemas/${id}`,
  }).schemas as Record<string, AsyncApiObject>;

  const schemas: Record<string, AsyncApiObject> = { ...headerSchemas() };
  for (const [id, schema] of Object.entries(generated)) {
    const { $schema: _dialect, $id: _id, ...rest } = schema;
    if (rest['definitions'] !== undefined || rest['$defs'] !== undefined) {
      throw new Error(`schema ${id} has local definitions; register the shared type in buildSchemas()`);
    }
    schemas[id] = rest;
  }
  return sortKeys(schemas);
}

function channelIdsByTopic(): Map<TopicName, string> {
  return new Map(Object.entries(TOPICS).map(([id, topic]) => [topic, id]));
}

function slug(service: string): string {
  return service
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => compare(a, b)));
}

/** Code-point order, independent of the machine's locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
