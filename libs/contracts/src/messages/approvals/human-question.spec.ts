import { randomUUID } from 'node:crypto';
import { ContractValidationError } from '../../envelope/validation-error';
import { createEnvelope } from '../../envelope/envelope-codec';
import { humanQuestionAnswered } from './human-question-answered.message';
import { humanQuestionAsked } from './human-question-asked.message';

const meta = { source: 'test', correlationId: 'c' };

describe('human question contracts', () => {
  const question = {
    questionId: randomUUID(),
    taskId: randomUUID(),
    workflowId: randomUUID(),
    stepId: 'triage',
    agentId: 'triager',
    team: 'sre',
    question: 'May I roll back checkout-api?',
    expiresAt: '2026-01-01T00:15:00.000Z',
  };

  it('keys a question and its answer by the question id', () => {
    expect(humanQuestionAsked.key(createEnvelope(humanQuestionAsked, question, meta))).toBe(question.questionId);
    const answer = createEnvelope(
      humanQuestionAnswered,
      { questionId: question.questionId, answer: 'yes', answeredBy: 'alice@example.com' },
      meta,
    );
    expect(humanQuestionAnswered.key(answer)).toBe(question.questionId);
  });

  it('rejects a question without its expiry and an empty answer that is not a refusal, naming the field', () => {
    const { expiresAt: _dropped, ...withoutExpiry } = question;
    expect(() => createEnvelope(humanQuestionAsked, withoutExpiry as typeof question, meta)).toThrow(/payload\.expiresAt/);
    const empty = () => createEnvelope(humanQuestionAnswered, { questionId: question.questionId, answer: ' ', answeredBy: 'alice' }, meta);
    expect(empty).toThrow(ContractValidationError);
    expect(empty).toThrow(/payload\.answer: required unless declined/);
    expect(() =>
      createEnvelope(humanQuestionAnswered, { questionId: question.questionId, answer: '', answeredBy: 'alice', declined: true }, meta),
    ).not.toThrow();
  });
});
