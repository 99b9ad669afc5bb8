import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { KafkaBus } from '@baton/bus';

@Controller('health')
export class HealthController {
  constructor(private readonly bus: KafkaBus) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** The runner is stateless: ready means the bus is connected. */
  @Get('ready')
  async ready(): Promise<{ status: 'ready' }> {
    if (!(await this.bus.isReady())) throw new ServiceUnavailableException('not ready');
    return { status: 'ready' };
  }
}
