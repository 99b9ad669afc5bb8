import { randomUUID } from 'node:crypto';
import { TaskEndedError, answerToolResult, questionWaitMs, untilAborted } from './ask-human';

describe('ask_human helpers', () => {
  it('waits the configured time, cut to what is left of the task', () => {
    expect(questionWaitMs(900_000, undefined, 0)).toBe(900_000);
    expect(questionWaitMs(900_000, 10_000, 4_000)).toBe(6_000);
    expect(questionWaitMs(1_000, 10_000, 4_000)).toBe(1_000);
    expect(questionWaitMs(1_000, 10_000, 12_000)).toBe(0);
  });

  it('hands the model the answer, or a refusal it cannot mistake for one', () => {
    const questionId = randomUUID();
    expect(answerToolResult({ questionId, answer: 'yes, roll back', answeredBy: 'alice' })).toEqual({
      answered: true,
      answer: 'yes, roll back',
      answeredBy: 'alice',
    });
    expect(answerToolResult({ questionId, answer: 'not my area', answeredBy: 'bob', declined: true })).toMatchObject({
      answered: false,
      declined: true,
      answeredBy: 'bob',
      reason: 'not my area',
    });
    expect(answerToolResult({ questionId, answer: '', answeredBy: 'bob', declined: true })).not.toHaveProperty('reason');
  });

  it('stops waiting as soon as the task is aborted', async () => {
    const controller = new AbortController();
    const never = new Promise<string>(() => undefined);
    const waiting = untilAborted(never, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(TaskEndedError);
    await expect(untilAborted(Promise.resolve('x'), new AbortController().signal)).resolves.toBe('x');
    await expect(untilAborted(Promise.resolve('x'), controller.signal)).rejects.toBeInstanceOf(TaskEndedError);
  });
});
