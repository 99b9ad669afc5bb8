import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { MESSAGE_CONTRACTS } from '../messages/registry';
import { dlqTopic, TOPIC_CATALOGUE, TOPICS } from '../topics/topics';
import { asyncApiMessageKey, buildAsyncApiDocument, type AsyncApiObject } from './asyncapi-document';
import { ASYNCAPI_FILE, ASYNCAPI_GENERATE_COMMAND, renderAsyncApiYaml } from './asyncapi-yaml';

const document = buildAsyncApiDocument();
const COMPONENT_KEY = /^[A-Za-z0-9.\-_]+$/;

function object(value: unknown, where: string): AsyncApiObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${where} is not an object`);
  return value as AsyncApiObject;
}

/** Resolves a local JSON pointer (`#/a/b~1c`) against the document. */
function resolve(ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = document;
  for (const raw of ref.slice(2).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(segment in node)) return undefined;
    node = (node as AsyncApiObject)[segment];
  }
  return node;
}

function collectRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((item) => collectRefs(item, out));
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') out.push(value);
      else collectRefs(value, out);
    }
  }
  return out;
}

describe('checked-in asyncapi.yaml', () => {
  it(`matches the contracts (regenerate with \`${ASYNCAPI_GENERATE_COMMAND}\`)`, () => {
    const onDisk = readFileSync(join(__dirname, '..', '..', 'asyncapi.yaml'), 'utf8');
    const generated = renderAsyncApiYaml();
    if (onDisk === generated) return;
    const diskLines = onDisk.split('\n');
    const generatedLines = generated.split('\n');
    const line = generatedLines.findIndex((text, index) => text !== diskLines[index]);
    throw new Error(
      `${ASYNCAPI_FILE} is stale; run \`${ASYNCAPI_GENERATE_COMMAND}\` and commit it.\n` +
        `first difference at line ${line + 1}:\n  file:      ${diskLines[line] ?? '<end of file>'}\n` +
        `  generated: ${generatedLines[line] ?? '<end of file>'}`,
    );
  });

  it('is deterministic and plain YAML (no anchors), parsing back to the document', () => {
    const rendered = renderAsyncApiYaml();
    expect(renderAsyncApiYaml(buildAsyncApiDocument())).toBe(rendered);
    expect(rendered).not.toMatch(/^\s*[\w.-]+: [&*]\w+/m);
    expect(parse(rendered)).toEqual(JSON.parse(JSON.stringify(document)));
  });
});

describe('AsyncAPI document', () => {
  it('is an AsyncAPI 3.0 document whose every $ref resolves', () => {
    expect(document.asyncapi).toBe('3.0.0');
    const unresolved = collectRefs(document).filter((ref) => resolve(ref) === undefined);
    expect(unresolved).toEqual([]);
  });

  it('uses component, channel and operation keys AsyncAPI allows', () => {
    const keys = [
      ...Object.keys(document.channels),
      ...Object.keys(document.operations),
      ...Object.keys(document.components.messages),
      ...Object.keys(document.components.schemas),
    ];
    expect(keys.filter((key) => !COMPONENT_KEY.test(key))).toEqual([]);
  });

  it('puts every contract on a catalogued topic', () => {
    const catalogued = new Set(Object.keys(TOPIC_CATALOGUE));
    expect(MESSAGE_CONTRACTS.filter((contract) => !catalogued.has(contract.topic)).map((c) => c.type)).toEqual([]);
  });

  it('has one channel per catalogued topic, addressed by the topic name, with its key, partitions, cleanup policy and DLQ', () => {
    const channels = Object.values(document.channels);
    for (const spec of Object.values(TOPIC_CATALOGUE)) {
      const channel = channels.find((candidate) => candidate['address'] === spec.name);
      expect(channel).toMatchObject({
        description: spec.summary,
        'x-keyed-by': spec.keyedBy,
        'x-dead-letter-topic': dlqTopic(spec.name),
        bindings: {
          kafka: {
            topic: spec.name,
            partitions: spec.partitions,
            topicConfiguration: { 'cleanup.policy': [spec.compacted ? 'compact' : 'delete'] },
          },
        },
      });
    }
    expect(document.channels['governancePolicies']).toMatchObject({
      bindings: { kafka: { topicConfiguration: { 'cleanup.policy': ['compact'] } } },
    });
  });

  it('describes each contract as a message on its topic: name = type, type@version, the envelope with its payload', () => {
    for (const contract of MESSAGE_CONTRACTS) {
      const key = asyncApiMessageKey(contract);
      const channel = Object.values(document.channels).find((candidate) => candidate['address'] === contract.topic);
      expect(object(channel?.['messages'], `channel ${contract.topic} messages`)[key]).toEqual({
        $ref: `#/components/messages/${key}`,
      });

      const message = document.components.messages[key];
      expect(message).toMatchObject({
        name: contract.type,
        summary: contract.summary,
        'x-version': contract.version,
        'x-message-id': `${contract.type}@${contract.version}`,
        payload: { $ref: `#/components/schemas/${key}` },
      });

      const envelope = object(document.components.schemas[key], `schema ${key}`);
      const properties = object(envelope['properties'], `${key}.properties`);
      expect(properties['type']).toMatchObject({ const: contract.type });
      expect(properties['version']).toMatchObject({ const: contract.version });
      expect(envelope['required']).toEqual(
        expect.arrayContaining(['id', 'type', 'version', 'occurredAt', 'source', 'correlationId', 'payload']),
      );
      expect(envelope['additionalProperties']).toBe(false);
      expect(object(properties['payload'], `${key} payload`)['type']).toBe('object');
    }
  });

  it('models the payload with the contract schema (workflow.requested: definition steps and JSON input)', () => {
    const envelope = object(document.components.schemas['workflow.requested.v1'], 'workflow.requested.v1');
    const payload = object(object(envelope['properties'], 'properties')['payload'], 'payload');
    expect(payload['required']).toEqual(['workflowId', 'definition', 'input', 'requestedBy']);
    expect(object(payload['properties'], 'payload.properties')['input']).toEqual({
      $ref: '#/components/schemas/JsonValue',
    });
  });

  it('has send and receive operations for every producer and consumer, over their channel messages', () => {
    const operations = Object.values(document.operations);
    for (const [channelId, topic] of Object.entries(TOPICS)) {
      const spec = TOPIC_CATALOGUE[topic];
      const on = operations.filter((operation) => object(operation['channel'], 'channel')['$ref'] === `#/channels/${channelId}`);
      const served = (action: string) => on.filter((op) => op['action'] === action).map((op) => op['x-service']);
      expect(served('send')).toEqual([...spec.producers]);
      expect(served('receive')).toEqual([...spec.consumers]);
    }
    for (const [id, operation] of Object.entries(document.operations)) {
      const channelRef = String(object(operation['channel'], `${id}.channel`)['$ref']);
      for (const message of operation['messages'] as AsyncApiObject[]) {
        expect(String(message['$ref']).startsWith(`${channelRef}/messages/`)).toBe(true);
      }
    }
  });

  it('describes the CloudEvents channel in both binding modes', () => {
    const channel = document.channels['systemEvents'];
    expect(channel).toMatchObject({ address: TOPICS.systemEvents, 'x-format': 'cloudevents' });
    expect(Object.keys(object(channel?.['messages'], 'systemEvents.messages')).sort()).toEqual([
      'cloudevent.binary',
      'cloudevent.structured',
    ]);
    expect(document.components.messages['cloudevent.structured']).toMatchObject({
      contentType: 'application/cloudevents+json',
      payload: { $ref: '#/components/schemas/CloudEvent' },
    });
    expect(document.components.schemas['CloudEvent']).toMatchObject({
      required: ['specversion', 'id', 'source', 'type'],
      properties: { specversion: { const: '1.0' }, source: { format: 'uri-reference' } },
    });
    expect(document.components.schemas['CloudEventBinaryHeaders']).toMatchObject({
      required: ['ce_specversion', 'ce_id', 'ce_source', 'ce_type'],
    });
  });

  it('describes the <topic>.dlq convention for every topic', () => {
    const deadLetters = document.channels['deadLetters'];
    expect(deadLetters).toMatchObject({ address: '{topic}.dlq' });
    const parameter = object(object(deadLetters?.['parameters'], 'parameters')['topic'], 'topic parameter');
    expect(parameter['enum']).toEqual(Object.values(TOPICS));
    expect(document.components.schemas['DeadLetterKafkaHeaders']).toMatchObject({
      required: ['baton-dlq-reason', 'baton-dlq-source-topic'],
    });
  });
});
