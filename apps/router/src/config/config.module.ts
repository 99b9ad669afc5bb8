import { Global, Module } from '@nestjs/common';
import { ROUTER_CONFIG, loadRouterConfig } from './router-config';

@Global()
@Module({
  providers: [{ provide: ROUTER_CONFIG, useFactory: () => loadRouterConfig() }],
  exports: [ROUTER_CONFIG],
})
export class ConfigModule {}
