import { z } from 'zod';

/**
 * What Postgres cannot hold: the NUL character (jsonb refuses its `\u0000`
 * escape with 22P05, text the 0x00 byte) and a UTF-16 surrogate without its
 * pair (not a character: jsonb refuses its escape, and it has no UTF-8 form).
 * The router stores workflow data in jsonb, so a value carrying either used to
 * pass validation and then fail every transaction that wrote it: a 500 over
 * HTTP, a result dead-lettered after its retries and its step left to time out
 * over Kafka. Refused here, it is a validation error naming the field instead.
 * The regex works on UTF-16 code units (no `u` flag) so that it sees lone
 * surrogates; one pass per string keeps it cheap.
 */
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

/** Why Postgres cannot store `text`, or undefined when it can. */
export function unstorableTextProblem(text: string): string | undefined {
  const found = UNSTORABLE.exec(text);
  if (found === null) return undefined;
  const unit = found[0];
  if (unit === '\u0000') return 'contains a NUL character (U+0000), which cannot be stored';
  return `contains an unpaired UTF-16 surrogate (U+${unit.charCodeAt(0).toString(16).toUpperCase()}), which cannot be stored`;
}

/**
 * `text` with every unstorable character written as a `\uXXXX` escape, for
 * error messages and paths that quote user input: an error that repeated the
 * NUL it complains about could not be stored or published either.
 */
export function escapeUnstorableText(text: string): string {
  return text.replace(UNSTORABLE_ALL, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A string Postgres can store; the base of every free-text field that ends up in a table. */
export const storableStringSchema = z.string().superRefine((text, ctx) => {
  const problem = unstorableTextProblem(text);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * A string-keyed record whose keys Postgres can store. The keys are checked
 * here rather than by the record's key schema because zod reports a bad key as
 * "Invalid key in record", and inside the JSON value union as a bare "Invalid
 * input" at the object, neither saying what is wrong nor which key.
 */
export function storableRecord<V extends z.ZodType>(value: V) {
  return z.record(z.string(), value).superRefine((record, ctx) => {
    for (const key of Object.keys(record)) {
      const problem = unstorableTextProblem(key);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `key ${problem}` });
    }
  });
}

export const identifierSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'must be letters, digits, ".", "_", ":" or "-"');

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Any JSON value whose strings, object keys included, Postgres can store (zod's `z.json()` with storable strings). */
export const jsonValueSchema = z.lazy((): z.ZodType<JsonValue, JsonValue> =>
  z.union([storableStringSchema, z.number(), z.boolean(), z.null(), z.array(jsonValueSchema), storableRecord(jsonValueSchema)]),
);

export const usageSchema = z
  .object({
    model: z.string().min(1),
    inputTokens: z.number().int().nonnegative(),
    outputTokens: z.number().int().nonnegative(),
    costUsd: z.number().nonnegative(),
  })
  .strict();
export type Usage = z.infer<typeof usageSchema>;

export const errorInfoSchema = z
  .object({
    code: storableStringSchema.min(1),
    message: storableStringSchema,
    retryable: z.boolean(),
  })
  .strict();
export type ErrorInfo = z.infer<typeof errorInfoSchema>;
