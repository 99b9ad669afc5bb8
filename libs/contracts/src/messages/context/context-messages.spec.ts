import { randomUUID } from 'node:crypto';
import { createEnvelope, envelopeKey, parseEnvelope, serializeEnvelope } from '../../envelope/envelope-codec';
import { ContractValidationError } from '../../envelope/validation-error';
import { TOPICS } from '../../topics/topics';
import { MAX_FACT_VALUE_CHARS, contextFactRecorded, contextQueryRequested, contextUpdated } from './context-messages';

const meta = { source: 'spec', correlationId: 'c-1' };
const about = { kind: 'Service', id: 'payments-db-proxy' };

function issuesOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ContractValidationError) return [...error.issues];
    throw error;
  }
  throw new Error('expected a ContractValidationError');
}

describe('context contracts', () => {
  it('keys facts by the entity they are about and defaults scopes to none', () => {
    const envelope = createEnvelope(contextFactRecorded, { about, attribute: 'pool.size', value: 20, confidence: 0.9, scopes: [] }, meta);
    expect(envelopeKey(contextFactRecorded, envelope)).toBe('payments-db-proxy');
    expect(envelope.payload.scopes).toEqual([]);
    expect(parseEnvelope(TOPICS.contextFacts, serializeEnvelope(envelope)).envelope.payload).toEqual(envelope.payload);
  });

  it('names the offending fields of a bad fact', () => {
    const issues = issuesOf(() =>
      createEnvelope(
        contextFactRecorded,
        {
          about: { kind: 'service', id: 'x y' },
          relationship: { type: 'depends on', to: about },
          confidence: 2,
        } as never,
        meta,
      ),
    );
    expect(issues.join('\n')).toMatch(/payload\.about\.kind: must be a PascalCase entity kind/);
    expect(issues.join('\n')).toMatch(/payload\.about\.id: must be letters/);
    expect(issues.join('\n')).toMatch(/payload\.relationship\.type: must be an UPPER_SNAKE/);
    expect(issues.join('\n')).toMatch(/payload\.confidence/);
  });

  it('rejects oversized values and facts that say nothing', () => {
    const big = 'x'.repeat(MAX_FACT_VALUE_CHARS);
    expect(
      issuesOf(() => createEnvelope(contextFactRecorded, { about, attribute: 'a', value: big, confidence: 1, scopes: [] }, meta)),
    ).toEqual([expect.stringMatching(/^payload\.value: must be at most 16384 characters/)]);
    expect(issuesOf(() => createEnvelope(contextFactRecorded, { about, confidence: 1 } as never, meta))).toEqual([
      expect.stringMatching(/^payload\.attribute: a fact needs an attribute, a relationship or text/),
    ]);
  });

  it('refuses a search of whitespace alone (an empty Lucene query the graph cannot parse), naming the field', () => {
    for (const text of ['   ', '\t\n', '\u3000']) {
      expect(
        issuesOf(() => createEnvelope(contextQueryRequested, { query: { kind: 'search', text }, scopes: [], caller: 'agent-b' }, meta)),
      ).toEqual(['payload.query.text: must contain something to search for, not only whitespace']);
    }
    expect(() =>
      createEnvelope(contextQueryRequested, { query: { kind: 'search', text: ' pool ' }, scopes: [], caller: 'agent-b' }, meta),
    ).not.toThrow();
  });

  it('validates each query form and keys updates by workflow', () => {
    const issues = issuesOf(() =>
      createEnvelope(
        contextQueryRequested,
        { query: { kind: 'neighbourhood', entity: about, hops: 9 }, scopes: [], caller: 'agent-b' } as never,
        meta,
      ),
    );
    expect(issues).toEqual([expect.stringMatching(/^payload\.query\.hops: /)]);
    const workflowId = randomUUID();
    const update = createEnvelope(
      contextUpdated,
      {
        workflowId,
        stepId: 's1',
        taskId: randomUUID(),
        entity: about,
        via: [],
        fact: {
          id: randomUUID(),
          about,
          text: 'pool changed',
          confidence: 1,
          scopes: [],
          occurredAt: new Date().toISOString(),
          recordedAt: new Date().toISOString(),
          provenance: { source: 'spec' },
        },
      },
      meta,
    );
    expect(envelopeKey(contextUpdated, update)).toBe(workflowId);
  });
});
