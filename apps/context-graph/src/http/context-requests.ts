import { z } from 'zod';
import {
  ContractValidationError,
  type ContextQuery,
  type EntityRef,
  describeIssues,
  entityRefSchema,
  factBodySchema,
  searchTextSchema,
} from '@baton/contracts';

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ContractValidationError(describeIssues(parsed.error), `invalid ${what}`);
  return parsed.data;
}

/** `Kind:id`, e.g. `Service:checkout-api` (ids may themselves contain ':'; the kind never does). */
export const entityPathSchema = z
  .string()
  .regex(/^[^:]+:.+$/, 'must be <Kind>:<id>, e.g. Service:checkout-api')
  .transform((value) => ({
    kind: value.slice(0, value.indexOf(':')),
    id: value.slice(value.indexOf(':') + 1),
  }))
  .pipe(entityRefSchema);

export function parseEntityPath(value: unknown, field: string): EntityRef {
  return parse(z.object({ [field]: entityPathSchema }), { [field]: value }, 'entity')[field] as EntityRef;
}

const hops = z.coerce.number().int().min(1).max(4).default(2);
const limit = z.coerce.number().int().min(1).max(500).default(50);

export const neighbourhoodParamsSchema = z.object({ hops, limit }).strict();

export function parseNeighbourhoodParams(query: unknown): { hops: number; limit: number } {
  return parse(neighbourhoodParamsSchema, query, 'neighbourhood query');
}

const DEFAULT_WINDOW_MS = 7 * 24 * 3_600_000;

/**
 * `GET /facts`: `q` searches; otherwise `about` is required, with `since` (what changed around it) or `windowMs`
 * (recent facts about it and what it DEPENDS_ON; default 7 days).
 */
export const factsParamsSchema = z
  .object({
    about: entityPathSchema.optional(),
    q: searchTextSchema.optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    windowMs: z.coerce
      .number()
      .int()
      .positive()
      .max(366 * 24 * 3_600_000)
      .optional(),
    hops,
    limit,
  })
  .strict()
  .refine((params) => params.q !== undefined || params.about !== undefined, {
    message: 'required unless q is given',
    path: ['about'],
  });

export function parseFactsQuery(query: unknown): ContextQuery {
  const params = parse(factsParamsSchema, query, 'facts query');
  if (params.q !== undefined) return { kind: 'search', text: params.q, limit: params.limit };
  const entity = params.about as EntityRef;
  if (params.since !== undefined) return { kind: 'changed', entity, since: params.since, hops: params.hops, limit: params.limit };
  return {
    kind: 'recent',
    entity,
    windowMs: params.windowMs ?? DEFAULT_WINDOW_MS,
    hops: params.hops,
    limit: params.limit,
  };
}

export const DEFAULT_EXPORT_LIMIT = 100;
export const MAX_EXPORT_LIMIT = 500;

/** `GET /workflows/:id/context`: `limit` bounds each list (facts written, reads); `truncated` says which was cut. */
export const exportParamsSchema = z
  .object({ limit: z.coerce.number().int().min(1).max(MAX_EXPORT_LIMIT).default(DEFAULT_EXPORT_LIMIT) })
  .strict();

export function parseExportParams(query: unknown): { limit: number } {
  return parse(exportParamsSchema, query, 'export query');
}

export const WORKFLOW_HEADER = 'X-Baton-Workflow-Id';

/**
 * The workflow a read is attributed to. Reads are recorded under it and exported by `GET /workflows/:id/context`,
 * which takes only a uuid: anything else would be recorded where no export can reach it.
 */
export function parseWorkflowHeader(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const schema = z.object({ [WORKFLOW_HEADER]: z.uuid('must be a uuid') });
  return parse(schema, { [WORKFLOW_HEADER]: value }, 'header')[WORKFLOW_HEADER] as string;
}

/** `POST /facts`: the fact, and optionally its provenance (a client-chosen id makes retries idempotent). */
export const recordFactRequestSchema = z
  .object({
    fact: factBodySchema,
    id: z.uuid().optional(),
    agentId: z.string().min(1).max(200).optional(),
    workflowId: z.string().min(1).max(200).optional(),
    occurredAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

export type RecordFactRequest = z.infer<typeof recordFactRequestSchema>;

export function parseRecordFact(body: unknown): RecordFactRequest {
  return parse(recordFactRequestSchema, body ?? undefined, 'fact');
}
