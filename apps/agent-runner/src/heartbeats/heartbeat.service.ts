import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { KafkaBus } from '@baton/bus';
import { agentHeartbeat, createEnvelope } from '@baton/contracts';
import { LlmGateway } from '@baton/llm-gateway';
import { RUNNER_CONFIG, type RunnerConfig } from '../config/runner-config';
import { LLM_GATEWAY } from '../tasks/tokens';
import { TasksService } from '../tasks/tasks.service';

/** Announces every hosted agent and its live load, so the router can route to it. */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(HeartbeatService.name);
  private readonly startedAt = new Date().toISOString();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly bus: KafkaBus,
    private readonly tasks: TasksService,
    @Inject(RUNNER_CONFIG) private readonly config: RunnerConfig,
    @Inject(LLM_GATEWAY) private readonly gateway: LlmGateway,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.beat().catch((error: unknown) => this.logger.warn({ msg: 'heartbeat failed', error: String(error) }));
    }, this.config.heartbeatIntervalMs);
    this.timer.unref();
  }

  /** Before the transport closes the bus, so no beat is attempted on a disconnected bus. */
  beforeApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async beat(): Promise<void> {
    for (const agent of this.tasks.hostedAgents) {
      await this.bus.publish(
        agentHeartbeat,
        createEnvelope(
          agentHeartbeat,
          {
            agentId: agent.id,
            instanceId: this.config.instanceId,
            team: agent.team,
            capabilities: [...agent.capabilities],
            scopes: [...agent.scopes],
            models: this.gateway.targetsOf(agent.model),
            maxConcurrency: agent.maxConcurrency,
            inFlight: this.tasks.inFlightFor(agent.id),
            startedAt: this.startedAt,
          },
          { source: `agent-runner/${this.config.instanceId}`, correlationId: `heartbeat:${agent.id}`, agentId: agent.id, team: agent.team },
        ),
      );
    }
  }
}
