import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { z } from 'zod';
import { toOpenApiSchema } from '@baton/contracts';
import { httpErrorSchema } from '@baton/http';
import { AgentRegistry, type AgentView } from './agent-registry.service';

const agentViewSchema = z.object({
  agentId: z.string(),
  instanceId: z.string(),
  team: z.string(),
  capabilities: z.array(z.string()),
  scopes: z.array(z.string()),
  models: z.array(z.string()),
  maxConcurrency: z.number().int(),
  load: z.number().int().describe('open assignments the router gave the agent'),
  reportedInFlight: z.number().int().describe('in flight by the agent’s last heartbeat'),
  live: z.boolean().describe('heartbeat seen within ROUTER_AGENT_TIMEOUT_MS'),
  lastSeenAt: z.iso.datetime(),
});

@ApiTags('agents')
@ApiBearerAuth()
@ApiSecurity('api-key')
@ApiUnauthorizedResponse({ description: 'missing or invalid API key', schema: toOpenApiSchema(httpErrorSchema) })
@Controller('agents')
export class AgentsController {
  constructor(private readonly registry: AgentRegistry) {}

  @Get()
  @ApiOperation({ summary: 'Agents known from heartbeats, with liveness and live load' })
  @ApiOkResponse({ schema: toOpenApiSchema(z.array(agentViewSchema)) })
  async list(): Promise<AgentView[]> {
    return this.registry.list();
  }
}
