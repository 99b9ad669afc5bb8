import { z } from 'zod';
import { TOPICS } from '../../topics/topics';
import { identifierSchema, jsonValueSchema } from '../common';
import { defineMessage } from '../message-contract';

export const CONTEXT_FACT_RECORDED = 'context.fact.recorded';
export const CONTEXT_QUERY_REQUESTED = 'context.query.requested';
export const CONTEXT_QUERY_ANSWERED = 'context.query.answered';
export const CONTEXT_UPDATED = 'context.updated';

/** Largest accepted fact value, measured as its JSON text (UTF-16 code units). */
export const MAX_FACT_VALUE_CHARS = 16_384;
export const MAX_FACT_TEXT_CHARS = 4_000;

/**
 * Kinds are PascalCase names (Service, Deployment, Incident, Customer, Ticket, Team, Agent, or a kind the
 * context-graph deployment adds); which kinds are accepted is the context-graph's configuration, not the contract's.
 */
export const entityKindSchema = z.string().regex(/^[A-Z][A-Za-z0-9]{0,63}$/, 'must be a PascalCase entity kind, e.g. Service');

/** Relationship types are UPPER_SNAKE names (DEPENDS_ON, OWNS, AFFECTS, ...). */
export const relationshipTypeSchema = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'must be an UPPER_SNAKE relationship type, e.g. DEPENDS_ON');

/** An access scope a fact requires (e.g. `customer-data`); a caller sees a fact only when it holds all of them. */
export const scopeSchema = identifierSchema;

export const entityRefSchema = z.object({ kind: entityKindSchema, id: identifierSchema }).strict();
export type EntityRef = z.infer<typeof entityRefSchema>;

const boundedValue = jsonValueSchema.refine(
  (value) => JSON.stringify(value).length <= MAX_FACT_VALUE_CHARS,
  `must be at most ${MAX_FACT_VALUE_CHARS} characters as JSON`,
);

/**
 * What a fact says. Either an attribute (`attribute` + `value`, e.g. connection-pool.size = 20) or a
 * relationship (`relationship`: this entity DEPENDS_ON another), or both; `text` is free prose for search.
 */
export const factBodySchema = z
  .object({
    about: entityRefSchema,
    attribute: identifierSchema.optional(),
    value: boundedValue.optional(),
    relationship: z.object({ type: relationshipTypeSchema, to: entityRefSchema }).strict().optional(),
    text: z.string().max(MAX_FACT_TEXT_CHARS).optional(),
    confidence: z.number().min(0).max(1),
    /** Scopes a reader needs (all of them). Empty (the default): visible to every caller. */
    scopes: z.array(scopeSchema).max(32).default([]),
    /** When the fact stops being true; absent means until superseded. */
    validUntil: z.iso.datetime({ offset: true }).optional(),
    /** Id of an earlier fact this one replaces; the earlier one is kept, marked superseded. */
    supersedes: z.uuid().optional(),
    /** Id of the event (envelope or CloudEvent) the fact was derived from. */
    sourceEvent: z.string().min(1).max(400).optional(),
  })
  .strict()
  .refine((fact) => fact.relationship !== undefined || fact.attribute !== undefined || fact.text !== undefined, {
    message: 'a fact needs an attribute, a relationship or text',
    path: ['attribute'],
  })
  .refine((fact) => fact.value === undefined || fact.attribute !== undefined, {
    message: 'a value needs an attribute',
    path: ['attribute'],
  });
export type FactBody = z.infer<typeof factBodySchema>;

/**
 * Recorded by an agent or a system. Provenance is the envelope: `id` (the fact id and idempotency key),
 * `agentId`, `workflowId`, `occurredAt`, `source`.
 */
export const contextFactRecorded = defineMessage({
  type: CONTEXT_FACT_RECORDED,
  version: 1,
  topic: TOPICS.contextFacts,
  summary:
    'A fact about an entity (attribute/value, relationship, text) with confidence, scopes and validity; provenance is the envelope (id, agentId, workflowId, occurredAt).',
  payload: factBodySchema,
  key: (envelope) => envelope.payload.about.id,
});

/** A fact as queries return it and updates push it. */
export const factViewSchema = z
  .object({
    id: z.uuid(),
    about: entityRefSchema,
    attribute: z.string().optional(),
    value: jsonValueSchema.optional(),
    relationship: z.object({ type: z.string(), to: entityRefSchema }).strict().optional(),
    text: z.string().optional(),
    confidence: z.number(),
    scopes: z.array(z.string()),
    occurredAt: z.string(),
    recordedAt: z.string(),
    validUntil: z.string().optional(),
    supersededBy: z.string().optional(),
    provenance: z
      .object({
        source: z.string(),
        agentId: z.string().optional(),
        workflowId: z.string().optional(),
        sourceEvent: z.string().optional(),
      })
      .strict(),
  })
  .strict();
export type FactView = z.infer<typeof factViewSchema>;

export const entityViewSchema = z.object({ kind: z.string(), id: z.string() }).strict();

export const edgeViewSchema = z
  .object({ from: entityRefSchema, type: z.string(), to: entityRefSchema, factId: z.string().optional() })
  .strict();

/** Absent: 2 hops, 50 results. */
const hops = z.number().int().min(1).max(4).optional();
const limit = z.number().int().min(1).max(500).optional();

/**
 * The four query forms. `scopes` are the caller's scopes: facts (and relationships recorded by facts) that need a
 * scope the caller lacks are filtered out inside the graph query.
 */
/** Full-text search: whitespace alone is an empty Lucene query, which the graph cannot parse (a ParseException), not "no hits". */
export const searchTextSchema = z
  .string()
  .min(1)
  .max(500)
  .refine((text) => /\S/.test(text), 'must contain something to search for, not only whitespace');

export const contextQuerySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('neighbourhood'), entity: entityRefSchema, hops, limit }).strict(),
  z
    .object({
      kind: z.literal('recent'),
      entity: entityRefSchema,
      /** Facts about the entity and what it DEPENDS_ON (transitively, up to `hops`) within the last `windowMs`. */
      windowMs: z
        .number()
        .int()
        .positive()
        .max(366 * 24 * 3_600_000),
      hops,
      limit,
    })
    .strict(),
  z
    .object({
      kind: z.literal('changed'),
      entity: entityRefSchema,
      since: z.iso.datetime({ offset: true }),
      hops,
      limit,
    })
    .strict(),
  z.object({ kind: z.literal('search'), text: searchTextSchema, limit }).strict(),
]);
export type ContextQuery = z.infer<typeof contextQuerySchema>;

export const contextQueryRequested = defineMessage({
  type: CONTEXT_QUERY_REQUESTED,
  version: 1,
  topic: TOPICS.contextQueries,
  summary:
    'A query of the context graph (bus.request): neighbourhood within k hops, recent facts in a window, changes since a time, or full-text search, with the caller scopes.',
  payload: z
    .object({
      query: contextQuerySchema,
      scopes: z.array(scopeSchema).max(64),
      /** Who asks (an agent id or a service); recorded with what the workflow read. */
      caller: identifierSchema,
    })
    .strict(),
  key: (envelope) => envelope.workflowId ?? envelope.correlationId,
});

export const contextQueryAnswered = defineMessage({
  type: CONTEXT_QUERY_ANSWERED,
  version: 1,
  topic: TOPICS.contextQueries,
  summary: 'The answer to a context query (bus.reply): entities, edges and facts, most recent and confident first; or an error.',
  payload: z
    .object({
      ok: z.boolean(),
      entities: z.array(entityViewSchema),
      edges: z.array(edgeViewSchema),
      facts: z.array(factViewSchema),
      error: z
        .object({ code: z.string(), message: z.string(), issues: z.array(z.string()).optional() })
        .strict()
        .optional(),
    })
    .strict(),
  key: (envelope) => envelope.workflowId ?? envelope.correlationId,
});

/**
 * Pushed to a task in flight when a fact lands on an entity the task is about, or on something such an entity
 * DEPENDS_ON. A task's entities come from its input: `input.entities: [{ kind, id }]`; its readable scopes from
 * `input.contextScopes: string[]` (absent: only unscoped facts are pushed).
 */
export const contextUpdated = defineMessage({
  type: CONTEXT_UPDATED,
  version: 1,
  topic: TOPICS.contextUpdates,
  summary: 'A new fact relevant to an in-flight task (about one of its entities, or something they DEPEND_ON).',
  payload: z
    .object({
      workflowId: z.uuid(),
      stepId: identifierSchema,
      taskId: z.uuid(),
      /** The task entity the fact is relevant to, and how: `self` or the chain of DEPENDS_ON hops. */
      entity: entityRefSchema,
      via: z.array(entityRefSchema),
      fact: factViewSchema,
    })
    .strict(),
  key: (envelope) => envelope.payload.workflowId,
});
