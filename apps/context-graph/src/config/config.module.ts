import { Global, Module } from '@nestjs/common';
import { CONTEXT_GRAPH_CONFIG, loadContextGraphConfig } from './context-graph-config';

@Global()
@Module({
  providers: [{ provide: CONTEXT_GRAPH_CONFIG, useFactory: () => loadContextGraphConfig() }],
  exports: [CONTEXT_GRAPH_CONFIG],
})
export class ConfigModule {}
