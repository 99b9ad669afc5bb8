import { Module } from '@nestjs/common';
import { KafkaBus } from '@baton/bus';
import { LlmGateway } from '@baton/llm-gateway';
import { RUNNER_CONFIG, type RunnerConfig } from '../config/runner-config';
import { GraphContextProvider } from '../context/graph-context.provider';
import { HeartbeatService } from '../heartbeats/heartbeat.service';
import { PeerAgentsService } from '../heartbeats/peer-agents.service';
import { RunnerToolBox } from '../tools/runner-tool-box';
import { AgentExecutor } from './agent-executor';
import { TasksConsumer } from './tasks.consumer';
import { TasksService } from './tasks.service';
import { AGENT_EXECUTOR, LLM_GATEWAY } from './tokens';

@Module({
  controllers: [TasksConsumer],
  providers: [
    { provide: LLM_GATEWAY, inject: [RUNNER_CONFIG], useFactory: (config: RunnerConfig) => new LlmGateway(config.gateway) },
    {
      provide: AGENT_EXECUTOR,
      inject: [LLM_GATEWAY, KafkaBus, RUNNER_CONFIG],
      useFactory: (gateway: LlmGateway, bus: KafkaBus, config: RunnerConfig) =>
        new AgentExecutor(
          gateway,
          new RunnerToolBox(bus, `agent-runner/${config.instanceId}`, { askHumanTimeoutMs: config.askHumanTimeoutMs }),
          new GraphContextProvider(bus, `agent-runner/${config.instanceId}`, config.context),
        ),
    },
    TasksService,
    HeartbeatService,
    PeerAgentsService,
  ],
})
export class TasksModule {}
