import { Module } from '@nestjs/common';
import { AgentRegistry } from './agent-registry.service';
import { AgentsController } from './agents.controller';
import { HeartbeatsConsumer } from './heartbeats.consumer';

@Module({
  controllers: [AgentsController, HeartbeatsConsumer],
  providers: [AgentRegistry],
  exports: [AgentRegistry],
})
export class AgentsModule {}
