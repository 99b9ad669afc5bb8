import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { KafkaBus, type Subscription } from '@baton/bus';
import { AGENT_HEARTBEAT, TOPICS, type PayloadOf, type agentHeartbeat } from '@baton/contracts';
import { RUNNER_CONFIG, type RunnerConfig } from '../config/runner-config';

type Heartbeat = PayloadOf<typeof agentHeartbeat>;

/**
 * Agents that live outside this runner (external agents speaking the topics,
 * or runners with other definitions), learnt from everyone's heartbeats. A
 * task addressed to such an agent, or for a capability only such an agent
 * has, is theirs: this runner leaves it alone instead of failing it.
 *
 * Every instance must see every heartbeat, so this is a consumer group of its
 * own per instance, starting at the latest offset (heartbeats repeat).
 */
@Injectable()
export class PeerAgentsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PeerAgentsService.name);
  private readonly peers = new Map<string, Heartbeat>();
  private subscription: Subscription | undefined;

  constructor(
    private readonly bus: KafkaBus,
    @Inject(RUNNER_CONFIG) private readonly config: RunnerConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const hosted = new Set(this.config.agents.map((agent) => agent.id));
    this.subscription = await this.bus.subscribe({
      groupId: `agent-runner.peers.${this.config.instanceId}`,
      topics: [TOPICS.agentHeartbeats],
      fromBeginning: false,
      handler: async ({ envelope }) => {
        if (envelope.type !== AGENT_HEARTBEAT) return;
        const beat = envelope.payload as Heartbeat;
        if (hosted.has(beat.agentId)) return;
        if (!this.peers.has(beat.agentId))
          this.logger.log({ msg: 'peer agent seen', agentId: beat.agentId, capabilities: beat.capabilities });
        this.peers.set(beat.agentId, beat);
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.close();
  }

  /** Record a heartbeat directly (tests; and the runner's own consumption path if it ever sees one first). */
  remember(beat: Heartbeat): void {
    this.peers.set(beat.agentId, beat);
  }

  isPeerAgent(agentId: string): boolean {
    return this.peers.has(agentId);
  }

  peerHasCapability(capability: string): boolean {
    for (const beat of this.peers.values()) if (beat.capabilities.includes(capability)) return true;
    return false;
  }
}
