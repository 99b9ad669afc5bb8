import type { z } from 'zod';
import { ContractValidationError, formatPath } from '../../envelope/validation-error';
import { type CloudEvent, CLOUDEVENTS_JSON_CONTENT_TYPE, cloudEventSchema } from './cloud-event';

/** A Kafka record as the bus hands it over: raw value, headers decoded as UTF-8. */
export interface CloudEventRecord {
  value: Buffer | null;
  headers: Record<string, string | undefined>;
}

export type CloudEventMode = 'binary' | 'structured';

const HEADER_PREFIX = 'ce_';
const CONTENT_TYPE_HEADER = 'content-type';

/**
 * Reads a CloudEvent from a Kafka record in either mode of the CloudEvents
 * Kafka protocol binding: structured (content-type application/cloudevents+json,
 * the whole event as JSON in the value) or binary (attributes in `ce_*`
 * headers, `content-type` = datacontenttype, the value is the data).
 * Throws ContractValidationError naming the offending attribute (as a header
 * name in binary mode, so a producer can tell what to fix).
 */
export function parseCloudEventRecord(record: CloudEventRecord): CloudEvent {
  const contentType = headerIgnoringCase(record.headers, CONTENT_TYPE_HEADER);
  switch (cloudEventMode(record.headers, contentType)) {
    case 'structured':
      return parseStructured(record.value);
    case 'binary':
      return parseBinary(record, contentType);
  }
}

/** Which binding mode a record uses; throws when it is neither. */
export function cloudEventMode(
  headers: Record<string, string | undefined>,
  contentType = headerIgnoringCase(headers, CONTENT_TYPE_HEADER),
): CloudEventMode {
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType === CLOUDEVENTS_JSON_CONTENT_TYPE) return 'structured';
  if (mediaType?.startsWith('application/cloudevents')) {
    throw new ContractValidationError(
      [`${CONTENT_TYPE_HEADER}: ${mediaType} is not supported (the Kafka binding has no batch mode; use ${CLOUDEVENTS_JSON_CONTENT_TYPE})`],
      'invalid CloudEvent',
    );
  }
  if (headers[`${HEADER_PREFIX}specversion`] !== undefined) return 'binary';
  throw new ContractValidationError(
    [
      `${HEADER_PREFIX}specversion: required for binary mode, or ${CONTENT_TYPE_HEADER}: ${CLOUDEVENTS_JSON_CONTENT_TYPE} for structured mode`,
    ],
    'not a CloudEvent',
  );
}

function parseStructured(value: Buffer | null): CloudEvent {
  const context = 'invalid CloudEvent (structured mode)';
  if (value === null || value.length === 0) throw new ContractValidationError(['(root): empty message'], context);
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (error) {
    throw new ContractValidationError([`(root): not JSON (${(error as Error).message})`], context);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ContractValidationError(['(root): must be a JSON object'], context);
  }
  // JSON format: an attribute whose value is null MUST be treated as absent; `data` is no attribute, null is its value.
  const members = Object.fromEntries(Object.entries(json).filter(([name, member]) => member !== null || name === 'data'));
  return validate(members, context, (name) => name);
}

function parseBinary(record: CloudEventRecord, contentType: string | undefined): CloudEvent {
  const context = 'invalid CloudEvent (binary mode)';
  const attributes: Record<string, unknown> = {};
  for (const [header, value] of Object.entries(record.headers)) {
    if (value === undefined || !header.startsWith(HEADER_PREFIX)) continue;
    const name = header.slice(HEADER_PREFIX.length);
    if (name === 'data' || name === 'data_base64' || name === 'datacontenttype') {
      throw new ContractValidationError(
        [`${header}: not an attribute header (data travels in the value, its type in ${CONTENT_TYPE_HEADER})`],
        context,
      );
    }
    attributes[name] = value;
  }
  if (contentType !== undefined) attributes['datacontenttype'] = contentType;
  Object.assign(attributes, binaryData(record.value, contentType, context));
  return validate(attributes, context, headerForAttribute);
}

/** JSON content (or no content-type) is parsed, text kept as a string, anything else base64-encoded. */
function binaryData(value: Buffer | null, contentType: string | undefined, context: string): Partial<CloudEvent> {
  if (value === null || value.length === 0) return {};
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType === undefined || mediaType === 'application/json' || mediaType.endsWith('+json')) {
    try {
      return { data: JSON.parse(value.toString('utf8')) as CloudEvent['data'] };
    } catch (error) {
      throw new ContractValidationError(
        [`value: not JSON (${(error as Error).message}); set ${CONTENT_TYPE_HEADER} for other data`],
        context,
      );
    }
  }
  if (mediaType.startsWith('text/')) return { data: value.toString('utf8') };
  return { data_base64: value.toString('base64') };
}

function headerForAttribute(name: string): string {
  if (name === 'datacontenttype') return CONTENT_TYPE_HEADER;
  if (name === 'data' || name === 'data_base64') return 'value';
  return `${HEADER_PREFIX}${name}`;
}

function validate(input: Record<string, unknown>, context: string, nameOf: (attribute: string) => string): CloudEvent {
  const parsed = cloudEventSchema.safeParse(input);
  if (!parsed.success) throw new ContractValidationError(describe(parsed.error, nameOf), context);
  return parsed.data as CloudEvent;
}

function describe(error: z.ZodError, nameOf: (attribute: string) => string): string[] {
  return error.issues.map((issue) => {
    const [first, ...rest] = issue.path;
    const path = first === undefined ? '(root)' : formatPath([nameOf(String(first)), ...rest]);
    const missing = issue.code === 'invalid_type' && issue.message.endsWith('received undefined');
    return `${path}: ${missing ? 'required' : issue.message}`;
  });
}

function headerIgnoringCase(headers: Record<string, string | undefined>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && value !== undefined) return value;
  }
  return undefined;
}
