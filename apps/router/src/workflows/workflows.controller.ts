import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { callerOf } from '../http/api-key.guard';
import { StartWorkflowRequest } from './start-workflow.request';
import { toWorkflowView, type WorkflowView } from './workflow.view';
import { WorkflowsService } from './workflows.service';

@Controller('workflows')
export class WorkflowsController {
  constructor(private readonly workflows: WorkflowsService) {}

  @Post()
  @HttpCode(202)
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
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<WorkflowView> {
    return toWorkflowView(await this.workflows.get(id));
  }
}
