import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { KafkaBus } from '@baton/bus';
import { GraphDatabase } from '../graph/neo4j';
import { PublicRoute } from '@baton/http';

@ApiTags('health')
@Controller('health')
@PublicRoute()
export class HealthController {
  constructor(
    private readonly graph: GraphDatabase,
    private readonly bus: KafkaBus,
  ) {}

  @Get('live')
  @ApiOkResponse({ description: 'the process is up' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready when Neo4j answers (migrations ran before listening) and the bus is connected. */
  @Get('ready')
  @ApiOkResponse({ description: 'Neo4j answers and the bus is connected' })
  @ApiServiceUnavailableResponse({ description: 'a dependency is not reachable yet' })
  async ready(): Promise<{ status: 'ready' }> {
    const [graph, bus] = await Promise.all([this.graph.isReady(), this.bus.isReady()]);
    if (!graph || !bus) throw new ServiceUnavailableException({ graph, bus });
    return { status: 'ready' };
  }
}
