import { z } from 'zod';
import { type JsonValue, jsonValueSchema } from '../common';
import { isAbsoluteUri, isUriReference } from './uri-reference';

/**
 * CloudEvents 1.0 (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md),
 * the format of `baton.system-events`, written by systems Baton does not own.
 */
export const CLOUDEVENTS_SPEC_VERSION = '1.0';
export const CLOUDEVENTS_JSON_CONTENT_TYPE = 'application/cloudevents+json';

/** The context attributes the spec defines, plus the JSON format's two data members. */
export const CLOUDEVENT_ATTRIBUTES = ['specversion', 'id', 'source', 'type', 'datacontenttype', 'dataschema', 'subject', 'time'] as const;
const DATA_MEMBERS = ['data', 'data_base64'] as const;
const KNOWN_MEMBERS: ReadonlySet<string> = new Set([...CLOUDEVENT_ATTRIBUTES, ...DATA_MEMBERS]);

/** Spec: attribute names MUST be lower-case ASCII letters or digits (20 characters SHOULD be the limit). */
export const CLOUDEVENT_ATTRIBUTE_NAME = /^[a-z0-9]+$/;

// RFC 2045 token characters for the type and subtype, then any parameters.
const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;.*)?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The spec's type system for extensions: String, Boolean, Integer (32-bit); other types travel as strings. */
export const cloudEventExtensionValueSchema = z.union([z.string(), z.boolean(), z.int().min(-2_147_483_648).max(2_147_483_647)]);
export type CloudEventExtensionValue = z.infer<typeof cloudEventExtensionValueSchema>;

export const cloudEventSchema = z
  .object({
    specversion: z.literal(CLOUDEVENTS_SPEC_VERSION).meta({ description: 'The CloudEvents version: 1.0.' }),
    id: z.string().min(1).meta({ description: 'Unique per source; source + id identifies the event.' }),
    source: z
      .string()
      .min(1)
      .refine(isUriReference, 'must be a URI-reference (RFC 3986)')
      .meta({ format: 'uri-reference', description: 'The context the event happened in.' }),
    type: z.string().min(1).meta({ description: 'The kind of occurrence, e.g. com.example.deployment.finished.' }),
    datacontenttype: z.string().regex(MEDIA_TYPE, 'must be a media type (RFC 2046)').optional(),
    dataschema: z.string().refine(isAbsoluteUri, 'must be an absolute URI (RFC 3986)').meta({ format: 'uri' }).optional(),
    subject: z.string().min(1).optional(),
    time: z.iso.datetime({ offset: true, message: 'must be an RFC 3339 timestamp' }).optional(),
    data: jsonValueSchema.optional(),
    data_base64: z.string().regex(BASE64, 'must be base64').optional(),
  })
  .catchall(cloudEventExtensionValueSchema)
  .superRefine((event, ctx) => {
    for (const name of Object.keys(event)) {
      if (!KNOWN_MEMBERS.has(name) && !CLOUDEVENT_ATTRIBUTE_NAME.test(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'extension attribute names must be lower-case letters and digits',
        });
      }
    }
    if (event.data !== undefined && event.data_base64 !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['data_base64'],
        message: 'data and data_base64 are mutually exclusive',
      });
    }
  });

/** A validated CloudEvent in the JSON format's shape: attributes, extensions and data side by side. */
export interface CloudEvent {
  specversion: typeof CLOUDEVENTS_SPEC_VERSION;
  id: string;
  source: string;
  type: string;
  datacontenttype?: string;
  dataschema?: string;
  subject?: string;
  time?: string;
  /** JSON data, or text for `text/*` content in binary mode. */
  data?: JsonValue;
  /** Binary data (neither JSON nor text), base64-encoded. */
  data_base64?: string;
  /** Extension attributes. */
  [extension: string]: JsonValue | undefined;
}

/** The extension attributes of an event (everything that is not a spec attribute or data). */
export function cloudEventExtensions(event: CloudEvent): Record<string, CloudEventExtensionValue> {
  const extensions: Record<string, CloudEventExtensionValue> = {};
  for (const [name, value] of Object.entries(event)) {
    if (KNOWN_MEMBERS.has(name)) continue;
    if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') extensions[name] = value;
  }
  return extensions;
}
