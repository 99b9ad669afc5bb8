import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { z } from 'zod';
import { type FactView, edgeViewSchema, entityRefSchema, factViewSchema, toOpenApiSchema } from '@baton/contracts';
import { FactIngestion } from '../facts/fact-ingestion.service';
import { GraphModel } from '../graph/graph-model';
import { AccessLog, type WorkflowExport } from '../queries/access-log';
import { ContextQueries, type QueryResult, type Reader } from '../queries/context-queries.service';
import { UuidParam, callerOf, httpErrorSchema, scopesOf } from '@baton/http';
import {
  DEFAULT_EXPORT_LIMIT,
  MAX_EXPORT_LIMIT,
  WORKFLOW_HEADER,
  parseEntityPath,
  parseExportParams,
  parseFactsQuery,
  parseNeighbourhoodParams,
  parseRecordFact,
  parseWorkflowHeader,
  recordFactRequestSchema,
} from './context-requests';
import { NotFoundError } from './not-found.error';

const errorResponse = { schema: toOpenApiSchema(httpErrorSchema) };
const workflowHeader = {
  name: WORKFLOW_HEADER,
  required: false,
  description: 'attributes the read to this workflow, for its export (GET /workflows/{id}/context)',
  schema: { type: 'string' as const, format: 'uuid' },
};

const entityWithFactsSchema = z.object({ entity: entityRefSchema, facts: z.array(factViewSchema) });
const queryResultSchema = z.object({
  entities: z.array(entityRefSchema),
  edges: z.array(edgeViewSchema),
  facts: z.array(factViewSchema),
});
const recordedSchema = z.object({
  id: z.uuid(),
  created: z.boolean().describe('false when this id was already recorded'),
});
const exportSchema = z.object({
  workflowId: z.string(),
  wrote: z.array(factViewSchema),
  read: z.array(
    z.object({
      caller: z.string(),
      at: z.string(),
      scopes: z.array(z.string()),
      query: z.json(),
      factIds: z.array(z.string()),
    }),
  ),
  truncated: z
    .object({ wrote: z.boolean(), read: z.boolean() })
    .describe('true for a list that holds `limit` entries and had more: the rest were left out'),
});

@ApiTags('context')
@ApiBearerAuth()
@ApiSecurity('api-key')
@ApiUnauthorizedResponse({ description: 'missing or invalid API key', ...errorResponse })
@Controller()
export class ContextController {
  constructor(
    private readonly queries: ContextQueries,
    private readonly ingestion: FactIngestion,
    private readonly model: GraphModel,
    private readonly access: AccessLog,
  ) {}

  @Get('entities/:id')
  @ApiOperation({
    summary: 'An entity and the facts about it the caller may read, current and most recent first',
  })
  @ApiParam({ name: 'id', description: '<Kind>:<id>, e.g. Service:checkout-api' })
  @ApiHeader(workflowHeader)
  @ApiOkResponse({ schema: toOpenApiSchema(entityWithFactsSchema) })
  @ApiBadRequestResponse({ description: 'malformed or unknown entity, or a workflow header that is not a uuid', ...errorResponse })
  @ApiNotFoundResponse({ description: 'no such entity', ...errorResponse })
  async entity(@Param('id') id: string, @Req() request: Request): Promise<{ entity: { kind: string; id: string }; facts: FactView[] }> {
    const entity = parseEntityPath(id, 'id');
    this.model.assertKnownEntity(entity, 'id');
    const reader = readerOf(request);
    const found = await this.queries.entity(entity, reader);
    if (!found) throw new NotFoundError(`no entity ${entity.kind}:${entity.id}`);
    await this.access.record(reader, { kind: 'entity', entity }, { entities: [entity], edges: [], facts: found.facts });
    return found;
  }

  @Get('entities/:id/neighbourhood')
  @ApiOperation({
    summary: 'Entities and relationships within k hops (relationships the caller may read), and facts about the entity',
  })
  @ApiParam({ name: 'id', description: '<Kind>:<id>' })
  @ApiQuery({
    name: 'hops',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 4, default: 2 },
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
  })
  @ApiHeader(workflowHeader)
  @ApiOkResponse({ schema: toOpenApiSchema(queryResultSchema) })
  @ApiBadRequestResponse({ description: 'malformed entity, parameters or workflow header', ...errorResponse })
  async neighbourhood(@Param('id') id: string, @Query() query: unknown, @Req() request: Request): Promise<QueryResult> {
    const entity = parseEntityPath(id, 'id');
    this.model.assertKnownEntity(entity, 'id');
    const { hops, limit } = parseNeighbourhoodParams(query);
    const reader = readerOf(request);
    const result = await this.queries.neighbourhood(entity, hops, limit, reader);
    await this.access.record(reader, { kind: 'neighbourhood', entity, hops, limit }, result);
    return result;
  }

  @Get('facts')
  @ApiOperation({
    summary:
      'Facts: full-text search (q), what changed around an entity since a time (about + since), or recent facts about it and what it DEPENDS_ON (about + windowMs)',
  })
  @ApiQuery({ name: 'about', required: false, description: '<Kind>:<id>' })
  @ApiQuery({ name: 'q', required: false })
  @ApiQuery({ name: 'since', required: false, schema: { type: 'string', format: 'date-time' } })
  @ApiQuery({ name: 'windowMs', required: false, schema: { type: 'integer' } })
  @ApiQuery({
    name: 'hops',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 4, default: 2 },
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
  })
  @ApiHeader(workflowHeader)
  @ApiOkResponse({ schema: toOpenApiSchema(z.object({ facts: z.array(factViewSchema) })) })
  @ApiBadRequestResponse({ description: 'malformed parameters or workflow header', ...errorResponse })
  async facts(@Query() query: unknown, @Req() request: Request): Promise<{ facts: FactView[] }> {
    const parsed = parseFactsQuery(query);
    if (parsed.kind !== 'search') this.model.assertKnownEntity(parsed.entity, 'about');
    const reader = readerOf(request);
    const result = await this.queries.run(parsed, reader);
    await this.access.record(reader, parsed, result);
    return { facts: result.facts };
  }

  @Post('facts')
  @HttpCode(201)
  @ApiOperation({ summary: 'Record a fact (provenance: the API key, or the given agent/workflow)' })
  @ApiBody({ schema: toOpenApiSchema(recordFactRequestSchema) })
  @ApiCreatedResponse({ schema: toOpenApiSchema(recordedSchema) })
  @ApiBadRequestResponse({
    description: 'invalid fact; `issues` names each offending field',
    ...errorResponse,
  })
  async record(@Body() body: unknown, @Req() request: Request): Promise<{ id: string; created: boolean }> {
    const command = parseRecordFact(body);
    const id = command.id ?? randomUUID();
    const created = await this.ingestion.ingest(
      {
        id,
        body: command.fact,
        occurredAt: command.occurredAt ?? new Date().toISOString(),
        source: callerOf(request),
        ...(command.agentId !== undefined ? { agentId: command.agentId } : {}),
        ...(command.workflowId !== undefined ? { workflowId: command.workflowId } : {}),
      },
      'fact',
    );
    return { id, created };
  }

  @Get('workflows/:id/context')
  @ApiOperation({
    summary:
      'Export of what a workflow read (queries and the facts returned) and wrote (facts, superseded and expired ones included), as far as the caller may see: facts needing a scope its key lacks, and reads made with such a scope, are left out',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: 'most facts and most reads returned (each list, oldest first); `truncated` says which list was cut',
    schema: { type: 'integer', minimum: 1, maximum: MAX_EXPORT_LIMIT, default: DEFAULT_EXPORT_LIMIT },
  })
  @ApiOkResponse({ schema: toOpenApiSchema(exportSchema) })
  @ApiBadRequestResponse({ description: 'id is not a uuid, or a malformed limit', ...errorResponse })
  async export(@Param('id', new UuidParam('id')) id: string, @Query() query: unknown, @Req() request: Request): Promise<WorkflowExport> {
    const { limit } = parseExportParams(query);
    return this.access.export(id, scopesOf(request), limit);
  }
}

/** HTTP readers: scopes from the API key's configuration; an `X-Baton-Workflow-Id` header attributes the read. */
function readerOf(request: Request): Reader {
  const workflowId = parseWorkflowHeader(request.headers[WORKFLOW_HEADER.toLowerCase()]);
  return {
    caller: callerOf(request),
    scopes: scopesOf(request),
    ...(workflowId !== undefined ? { workflowId } : {}),
  };
}
