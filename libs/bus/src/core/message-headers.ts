/** Header names the bus writes; everything else on a record is passed through untouched. */
export const HEADERS = {
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  contentType: 'content-type',
  type: 'baton-type',
  version: 'baton-version',
  replyTo: 'baton-reply-to',
  requestId: 'baton-request-id',
  dlqReason: 'baton-dlq-reason',
  dlqSourceTopic: 'baton-dlq-source-topic',
  dlqSourcePartition: 'baton-dlq-source-partition',
  dlqSourceOffset: 'baton-dlq-source-offset',
  dlqAttempts: 'baton-dlq-attempts',
  dlqFailedAt: 'baton-dlq-failed-at',
} as const;

/** Kafka header values as clients hand them over: bytes or strings, possibly repeated. */
export type RawHeaderValue = Buffer | string | ReadonlyArray<Buffer | string> | undefined;
export type RawHeaders = Readonly<Record<string, RawHeaderValue>>;

/** Decodes raw headers to strings; of a repeated header the last value wins, as in Kafka's lastHeader(). */
export function decodeHeaders(raw: RawHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const [name, value] of Object.entries(raw)) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last === undefined) continue;
    out[name] = typeof last === 'string' ? last : (last as Buffer).toString('utf8');
  }
  return out;
}
