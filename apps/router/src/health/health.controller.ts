import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { KafkaBus } from '@baton/bus';
import { PublicRoute } from '../http/api-key.guard';

@ApiTags('health')
@Controller('health')
@PublicRoute()
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
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
    const checks = await Promise.allSettled([this.dataSource.query('select 1'), this.bus.isReady()]);
    const failed = checks.filter((check) => check.status === 'rejected' || check.value === false);
    if (failed.length > 0) throw new ServiceUnavailableException('not ready');
    return { status: 'ready' };
  }
}
