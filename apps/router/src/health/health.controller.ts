import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { KafkaBus } from '@baton/bus';
import { PersistenceHealth } from '@baton/persistence';
import { PublicRoute } from '@baton/http';

@ApiTags('health')
@Controller('health')
@PublicRoute()
export class HealthController {
  constructor(
    private readonly persistence: PersistenceHealth,
    private readonly bus: KafkaBus,
  ) {}

  @Get('live')
  @ApiOkResponse({ description: 'the process is up' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready when Postgres answers and the bus is connected: only then can work be accepted. */
  @Get('ready')
  @ApiOkResponse({ description: 'Postgres answers and the bus is connected' })
  @ApiServiceUnavailableResponse({ description: 'a dependency is not reachable yet' })
  async ready(): Promise<{ status: 'ready' }> {
    const [database, bus] = await Promise.all([this.persistence.isReady(), this.bus.isReady()]);
    if (!database || !bus) throw new ServiceUnavailableException({ database, bus });
    return { status: 'ready' };
  }
}
