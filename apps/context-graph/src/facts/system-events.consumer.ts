import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { KafkaBus, NonRetryableError } from '@baton/bus';
import {
  type CloudEvent,
  ContractValidationError,
  TOPICS,
  cloudEventExtensions,
  describeIssues,
  factBodySchema,
  parseCloudEventRecord,
} from '@baton/contracts';
import { deterministicUuid } from '../graph/deterministic-uuid';
import type { FactInput } from './fact-record';
import { FactIngestion } from './fact-ingestion.service';

export const SYSTEM_EVENTS_GROUP = 'context-graph.system-events';

/**
 * How a CloudEvent on `baton.system-events` becomes a fact. The entity is named by the extensions
 * `entitykind` + `entityid` (binary mode: `ce_entitykind`, `ce_entityid`), or else is the Service in `data.service`.
 * The fact: attribute `event.<type>`, value = the event data, text = type, source and subject, confidence 1,
 * scopes from the `scopes` extension (comma-separated), occurredAt = `time` (else now). Its id derives from
 * (source, id), the CloudEvent's identity, so a redelivered or re-sent event changes nothing.
 */
export function factFromCloudEvent(event: CloudEvent): FactInput {
  const extensions = cloudEventExtensions(event);
  const data = event.data;
  const service = typeof data === 'object' && data !== null && !Array.isArray(data) ? data['service'] : undefined;
  const about =
    extensions['entitykind'] !== undefined || extensions['entityid'] !== undefined
      ? { kind: String(extensions['entitykind'] ?? ''), id: String(extensions['entityid'] ?? '') }
      : typeof service === 'string'
        ? { kind: 'Service', id: service }
        : undefined;
  if (about === undefined) {
    throw new ContractValidationError(
      ['ce_entitykind: required (with ce_entityid), unless data.service names the Service the event is about'],
      `system event ${event.type} names no entity`,
    );
  }
  const scopes =
    typeof extensions['scopes'] === 'string'
      ? extensions['scopes']
          .split(',')
          .map((scope) => scope.trim())
          .filter(Boolean)
      : [];
  const body = factBodySchema.safeParse({
    about,
    attribute: `event.${event.type}`.replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 200),
    ...(data !== undefined ? { value: data } : {}),
    text: [event.type, event.source, event.subject].filter(Boolean).join(' ').slice(0, 4_000),
    confidence: 1,
    scopes,
    sourceEvent: `${event.source}#${event.id}`.slice(0, 400),
  });
  if (!body.success) {
    throw new ContractValidationError(describeIssues(body.error, 'event'), `system event ${event.type} is not a valid fact`);
  }
  return {
    id: deterministicUuid(`baton.system-events|${event.source}|${event.id}`),
    body: body.data,
    occurredAt: event.time ?? new Date().toISOString(),
    source: event.source,
  };
}

/** Records system events (CloudEvents, not envelopes: read through the bus's raw path) as facts. */
@Injectable()
export class SystemEventsConsumer implements OnApplicationBootstrap {
  constructor(
    private readonly bus: KafkaBus,
    private readonly ingestion: FactIngestion,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.subscribeRaw({
      groupId: SYSTEM_EVENTS_GROUP,
      topics: [TOPICS.systemEvents],
      partitionsConsumedConcurrently: 6,
      handler: async (record) => {
        try {
          await this.ingestion.ingest(factFromCloudEvent(parseCloudEventRecord(record)), 'event');
        } catch (error) {
          // Malformed events and events the model rejects cannot become valid by retrying.
          if (error instanceof ContractValidationError) throw new NonRetryableError(error.message);
          throw error;
        }
      },
    });
  }
}
