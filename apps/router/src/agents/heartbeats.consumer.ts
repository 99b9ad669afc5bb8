import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { AGENT_HEARTBEAT, TOPICS, type Envelope, type PayloadOf, type agentHeartbeat } from '@baton/contracts';
import { AgentRegistry } from './agent-registry.service';

@Controller()
export class HeartbeatsConsumer {
  constructor(private readonly registry: AgentRegistry) {}

  @EventPattern({ topic: TOPICS.agentHeartbeats, type: AGENT_HEARTBEAT })
  async onHeartbeat(@Payload() envelope: Envelope<PayloadOf<typeof agentHeartbeat>>): Promise<void> {
    await this.registry.recordHeartbeat(envelope);
  }
}
