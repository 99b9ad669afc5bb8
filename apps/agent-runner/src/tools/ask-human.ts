import type { JsonValue, PayloadOf, humanQuestionAnswered } from '@baton/contracts';

type Answer = PayloadOf<typeof humanQuestionAnswered>;

/**
 * How long a question may wait: the configured bound, cut to what is left of the task's own deadline
 * (the task is abandoned then anyway, and the inbox should not show a question nobody waits for).
 * 0 means there is no time left to ask at all.
 */
export function questionWaitMs(configuredMs: number, deadlineAt: number | undefined, now: number): number {
  const left = deadlineAt === undefined ? configuredMs : Math.floor(deadlineAt - now);
  return Math.max(0, Math.min(configuredMs, left));
}

/** What the model gets back: the answer, or an unambiguous refusal it must carry on without. */
export function answerToolResult(answer: Answer): JsonValue {
  if (answer.declined === true) {
    return {
      answered: false,
      declined: true,
      answeredBy: answer.answeredBy,
      ...(answer.answer.trim().length > 0 ? { reason: answer.answer } : {}),
      note: 'the human declined to answer this question; do not ask it again, continue without it',
    };
  }
  return { answered: true, answer: answer.answer, answeredBy: answer.answeredBy };
}

/** Rejects as soon as `signal` aborts, so a cancelled or timed-out task stops waiting at once. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new TaskEndedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new TaskEndedError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export class TaskEndedError extends Error {
  override readonly name = 'TaskEndedError';
  constructor() {
    super('the task ended while waiting');
  }
}
