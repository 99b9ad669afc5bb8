import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { toOpenApiSchema } from '@baton/contracts';
import { UuidParam, callerOf, httpErrorSchema } from '@baton/http';
import { ContractValidationError, describeIssues } from '@baton/contracts';
import { DefinitionsService } from '../definitions/definitions.service';
import { StartWorkflowRequest, cancelWorkflowRequestSchema, startWorkflowRequestSchema } from './start-workflow.request';
import { toWorkflowView, workflowViewSchema, type WorkflowView } from './workflow.view';
import { SubmissionChecks } from './submission-checks';
import { WorkflowsService } from './workflows.service';

const errorResponse = { schema: toOpenApiSchema(httpErrorSchema) };

@ApiTags('workflows')
@ApiBearerAuth()
@ApiSecurity('api-key')
@ApiUnauthorizedResponse({ description: 'missing or invalid API key', ...errorResponse })
@Controller('workflows')
export class WorkflowsController {
  constructor(
    private readonly workflows: WorkflowsService,
    private readonly definitions: DefinitionsService,
    private readonly checks: SubmissionChecks,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Start a workflow from a definition (inline or a registered name) and an input' })
  @ApiBody({ schema: toOpenApiSchema(startWorkflowRequestSchema) })
  @ApiAcceptedResponse({ description: 'accepted and persisted; steps run asynchronously', schema: toOpenApiSchema(workflowViewSchema) })
  @ApiBadRequestResponse({ description: 'invalid body; `issues` names each offending field', ...errorResponse })
  @ApiNotFoundResponse({ description: 'definitionName is not registered', ...errorResponse })
  @ApiPayloadTooLargeResponse({
    description: 'input or definition over its size limit; `issues` names the field and limit',
    ...errorResponse,
  })
  @ApiUnprocessableEntityResponse({
    description:
      'a step names a capability no agent has announced (`issues`: `steps[1].capability: unknown capability "foo" …`); off with ROUTER_REJECT_UNKNOWN_CAPABILITIES=false',
    ...errorResponse,
  })
  async start(@Body() body: unknown, @Req() request: Request): Promise<WorkflowView> {
    const command = StartWorkflowRequest.parse(body);
    const named = 'definitionName' in command.source ? command.source.definitionName : undefined;
    const definition =
      named === undefined ? (command.source as { definition: never }).definition : (await this.definitions.get(named)).definition;
    await this.checks.assertAcceptable(definition, command.input);
    const workflow = await this.workflows.start({
      workflowId: randomUUID(),
      definition,
      ...(named === undefined ? {} : { definitionName: named }),
      input: command.input,
      requestedBy: callerOf(request),
    });
    return toWorkflowView(workflow);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A workflow with its steps, outputs and status' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ schema: toOpenApiSchema(workflowViewSchema) })
  @ApiBadRequestResponse({ description: 'id is not a uuid', ...errorResponse })
  @ApiNotFoundResponse({ description: 'no such workflow', ...errorResponse })
  async get(@Param('id', new UuidParam('id')) id: string): Promise<WorkflowView> {
    return toWorkflowView(await this.workflows.get(id));
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @ApiOperation({ summary: 'Cancel a running workflow; its open step attempts get task.cancel_requested' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiBody({ required: false, schema: toOpenApiSchema(cancelWorkflowRequestSchema) })
  @ApiAcceptedResponse({ description: 'cancelled', schema: toOpenApiSchema(workflowViewSchema) })
  @ApiBadRequestResponse({ description: 'id is not a uuid, or the body is invalid; `issues` names the field', ...errorResponse })
  @ApiNotFoundResponse({ description: 'no such workflow', ...errorResponse })
  @ApiConflictResponse({ description: 'the workflow is no longer running', ...errorResponse })
  async cancel(@Param('id', new UuidParam('id')) id: string, @Body() body: unknown, @Req() request: Request): Promise<WorkflowView> {
    const parsed = cancelWorkflowRequestSchema.safeParse(body ?? {});
    if (!parsed.success) throw new ContractValidationError(describeIssues(parsed.error), 'invalid cancel request');
    return toWorkflowView(await this.workflows.cancel(id, callerOf(request), parsed.data.reason));
  }
}
