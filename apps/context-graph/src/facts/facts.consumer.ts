import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { type ConsumedMessage, KafkaBus, NonRetryableError } from '@baton/bus';
import { ContractValidationError, TOPICS, type Envelope, type PayloadOf, contextFactRecorded } from '@baton/contracts';
import { FactIngestion } from './fact-ingestion.service';

export const FACTS_GROUP = 'context-graph.facts';

/**
 * Consumes `baton.context.facts` a fetched batch at a time, so many facts share one graph transaction; facts the
 * deployment's model rejects make the bus handle that batch message by message, and go to the DLQ with the field
 * named.
 */
@Injectable()
export class FactsConsumer implements OnApplicationBootstrap {
  constructor(
    private readonly bus: KafkaBus,
    private readonly ingestion: FactIngestion,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Closed by the bus on shutdown, after in-flight handlers finish.
    await this.bus.subscribeBatch({
      groupId: FACTS_GROUP,
      topics: [TOPICS.contextFacts],
      partitionsConsumedConcurrently: 6,
      batchHandler: async (messages) => {
        const results = await Promise.allSettled(messages.map((message) => this.ingest(message)));
        const failed = results.find((result) => result.status === 'rejected');
        if (failed) throw failed.reason;
      },
      handler: async (message) => {
        try {
          await this.ingest(message);
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

  private async ingest({ envelope }: ConsumedMessage): Promise<void> {
    if (envelope.type !== contextFactRecorded.type) return;
    const fact = envelope as Envelope<PayloadOf<typeof contextFactRecorded>>;
    await this.ingestion.ingest({
      id: fact.id,
      body: fact.payload,
      occurredAt: fact.occurredAt,
      source: fact.source,
      ...(fact.agentId !== undefined ? { agentId: fact.agentId } : {}),
      ...(fact.workflowId !== undefined ? { workflowId: fact.workflowId } : {}),
    });
  }
}
