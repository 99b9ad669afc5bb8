import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiQuery,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { z } from 'zod';
import { toOpenApiSchema, workflowDefinitionSchema } from '@baton/contracts';
import { httpErrorSchema } from '@baton/http';
import { parseDefinition } from './definition-parsing';
import { definitionViewSchema, toDefinitionView, type DefinitionView } from './definition.view';
import { SubmissionChecks } from '../workflows/submission-checks';
import { DefinitionsService } from './definitions.service';

const errorResponse = { schema: toOpenApiSchema(httpErrorSchema) };

@ApiTags('definitions')
@ApiBearerAuth()
@ApiSecurity('api-key')
@ApiUnauthorizedResponse({ description: 'missing or invalid API key', ...errorResponse })
@Controller('definitions')
export class DefinitionsController {
  constructor(
    private readonly definitions: DefinitionsService,
    private readonly checks: SubmissionChecks,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Register (or update) a named workflow definition, as JSON or YAML (content-type application/yaml)' })
  @ApiBody({ schema: toOpenApiSchema(workflowDefinitionSchema) })
  @ApiCreatedResponse({
    description: 'registered; the version grows when the content changed',
    schema: toOpenApiSchema(definitionViewSchema),
  })
  @ApiBadRequestResponse({ description: 'invalid definition; `issues` names each offending field', ...errorResponse })
  @ApiPayloadTooLargeResponse({ description: 'definition over ROUTER_MAX_DEFINITION_BYTES', ...errorResponse })
  async register(@Body() body: unknown): Promise<DefinitionView> {
    const definition = parseDefinition(body ?? undefined, 'request body');
    this.checks.assertSize({ definition });
    // Registered ahead of its agents (like the folder at start-up): accepted, with the capabilities a submission would be refused for.
    const warnings = await this.checks.unknownCapabilities(definition);
    const view = toDefinitionView(await this.definitions.register(definition, 'api'));
    return warnings.length > 0 ? { ...view, warnings } : view;
  }

  @Get()
  @ApiOperation({ summary: 'Registered definitions; `trigger` keeps those started by a system-event type' })
  @ApiQuery({ name: 'trigger', required: false, description: 'a system-event type' })
  @ApiOkResponse({ schema: toOpenApiSchema(z.array(definitionViewSchema)) })
  async list(@Query('trigger') trigger?: string): Promise<DefinitionView[]> {
    return (await this.definitions.list(trigger)).map(toDefinitionView);
  }

  @Get(':name')
  @ApiOperation({ summary: 'One registered definition' })
  @ApiOkResponse({ schema: toOpenApiSchema(definitionViewSchema) })
  @ApiNotFoundResponse({ description: 'no such definition', ...errorResponse })
  async get(@Param('name') name: string): Promise<DefinitionView> {
    return toDefinitionView(await this.definitions.get(name));
  }
}
