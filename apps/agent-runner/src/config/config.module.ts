import { Global, Module } from '@nestjs/common';
import { RUNNER_CONFIG, loadRunnerConfig } from './runner-config';

@Global()
@Module({
  providers: [{ provide: RUNNER_CONFIG, useFactory: () => loadRunnerConfig() }],
  exports: [RUNNER_CONFIG],
})
export class ConfigModule {}
