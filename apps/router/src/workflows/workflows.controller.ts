import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { toOpenApiSchema } from '@baton/contracts';
import { callerOf } from '../http/api-key.guard';
import { httpErrorSchema } from '../http/http-error.filter';
import { StartWorkflowRequest, startWorkflowRequestSchema } from './start-workflow.request';
import { toWorkflowView, workflowViewSchema, type WorkflowView } from './workflow.view';
import { WorkflowsService } from './workflows.service';

const errorResponse = { schema: toOpenApiSchema(httpErrorSchema) };

@ApiTags('workflows')
@ApiBearerAuth()
@ApiSecurity('api-key')
@ApiUnauthorizedResponse({ description: 'missing or invalid API key', ...errorResponse })
@Controller('workflows')
export class WorkflowsController {
  constructor(private readonly workflows: WorkflowsService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Start a workflow from a definition and an input' })
  @ApiBody({ schema: toOpenApiSchema(startWorkflowRequestSchema) })
  @ApiAcceptedResponse({ description: 'accepted and persisted; steps run asynchronously', schema: toOpenApiSchema(workflowViewSchema) })
  @ApiBadRequestResponse({ description: 'invalid body; `issues` names each offending field', ...errorResponse })
  async start(@Body() body: unknown, @Req() request: Request): Promise<WorkflowView> {
    const command = StartWorkflowRequest.parse(body);
    const workflow = await this.workflows.start({
      workflowId: randomUUID(),
      definition: command.definition,
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
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<WorkflowView> {
    return toWorkflowView(await this.workflows.get(id));
  }
}
