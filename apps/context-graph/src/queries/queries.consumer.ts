import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { KafkaBus } from '@baton/bus';
import {
  CONTEXT_QUERY_REQUESTED,
  ContractValidationError,
  TOPICS,
  causedBy,
  contextQueryAnswered,
  contextQueryRequested,
  createEnvelope,
  type Envelope,
  type PayloadOf,
} from '@baton/contracts';
import { GraphModel } from '../graph/graph-model';
import { AccessLog } from './access-log';
import { ContextQueries } from './context-queries.service';

export const QUERIES_GROUP = 'context-graph.queries';

type Answer = PayloadOf<typeof contextQueryAnswered>;

/** Serves `context.query.requested` (bus.request) with `context.query.answered` (bus.reply). */
@Injectable()
export class QueriesConsumer implements OnApplicationBootstrap {
  private readonly logger = new Logger('QueriesConsumer');

  constructor(
    private readonly bus: KafkaBus,
    private readonly queries: ContextQueries,
    private readonly model: GraphModel,
    private readonly access: AccessLog,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.subscribe({
      groupId: QUERIES_GROUP,
      topics: [TOPICS.contextQueries],
      partitionsConsumedConcurrently: 6,
      // Queries are about now: a group starting fresh does not answer requests whose requesters gave up long ago.
      fromBeginning: false,
      handler: async (message) => {
        if (message.envelope.type !== CONTEXT_QUERY_REQUESTED) return;
        const request = message.envelope as Envelope<PayloadOf<typeof contextQueryRequested>>;
        const answer = await this.answer(request);
        await this.bus.reply(
          message,
          contextQueryAnswered,
          createEnvelope(contextQueryAnswered, answer, causedBy(request, 'context-graph')),
        );
      },
    });
  }

  private async answer(request: Envelope<PayloadOf<typeof contextQueryRequested>>): Promise<Answer> {
    const { query, scopes, caller } = request.payload;
    const reader = {
      caller,
      scopes,
      ...(request.workflowId !== undefined ? { workflowId: request.workflowId } : {}),
    };
    try {
      if (query.kind !== 'search') this.model.assertKnownEntity(query.entity, 'payload.query.entity');
      const result = await this.queries.run(query, reader);
      await this.access.record(reader, query, result);
      return { ok: true, ...result };
    } catch (error) {
      if (error instanceof ContractValidationError) {
        return {
          ok: false,
          entities: [],
          edges: [],
          facts: [],
          error: { code: 'validation_failed', message: error.message, issues: [...error.issues] },
        };
      }
      this.logger.error({ msg: 'context query failed', error: String(error) });
      return {
        ok: false,
        entities: [],
        edges: [],
        facts: [],
        error: { code: 'internal_error', message: 'query failed' },
      };
    }
  }
}
