import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { KafkaBus, NonRetryableError } from '@baton/bus';
import {
  ContractValidationError,
  TOPICS,
  type Envelope,
  type PayloadOf,
  contextFactRecorded,
} from '@baton/contracts';
import { FactIngestion } from './fact-ingestion.service';

export const FACTS_GROUP = 'context-graph.facts';

/** Consumes `baton.context.facts`; facts the deployment's model rejects go to the DLQ with the field named. */
@Injectable()
export class FactsConsumer implements OnApplicationBootstrap {
  constructor(
    private readonly bus: KafkaBus,
    private readonly ingestion: FactIngestion,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Closed by the bus on shutdown, after in-flight handlers finish.
    await this.bus.subscribe({
      groupId: FACTS_GROUP,
      topics: [TOPICS.contextFacts],
      partitionsConsumedConcurrently: 6,
      handler: async ({ envelope }) => {
        if (envelope.type !== contextFactRecorded.type) return;
        const fact = envelope as Envelope<PayloadOf<typeof contextFactRecorded>>;
        try {
          await this.ingestion.ingest({
            id: fact.id,
            body: fact.payload,
            occurredAt: fact.occurredAt,
            source: fact.source,
            ...(fact.agentId !== undefined ? { agentId: fact.agentId } : {}),
            ...(fact.workflowId !== undefined ? { workflowId: fact.workflowId } : {}),
          });
        } catch (error) {
          if (error instanceof ContractValidationError) {
            // Its message names every offending field; retrying cannot make the fact valid.
            throw new NonRetryableError(error.message);
          }
          throw error;
        }
      },
    });
  }
}
