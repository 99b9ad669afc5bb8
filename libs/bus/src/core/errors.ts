/**
 * Thrown by a handler when retrying cannot help (a business rule rejected the
 * message): the message goes to the dead-letter topic at once. Any error with
 * `retryable === false` is treated the same way.
 */
export class NonRetryableError extends Error {
  override readonly name: string = 'NonRetryableError';
  readonly retryable = false;
}

export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
  constructor(
    readonly requestId: string,
    readonly topic: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply to request ${requestId} on ${topic} within ${timeoutMs} ms`);
  }
}

/** `reply()` was given a message that did not come from `request()`. */
export class NotARequestError extends Error {
  override readonly name = 'NotARequestError';
}

export class BusNotConnectedError extends Error {
  override readonly name = 'BusNotConnectedError';
}

/** A handler threw something that is not an Error (Nest's RPC filter throws plain objects). */
export class HandlerFailedError extends Error {
  override readonly name = 'HandlerFailedError';
  constructor(
    message: string,
    readonly thrown: unknown,
  ) {
    super(message);
  }
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof NonRetryableError) return false;
  if (typeof error === 'object' && error !== null && 'retryable' in error) {
    return (error as { retryable: unknown }).retryable !== false;
  }
  return true;
}

export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'object' && thrown !== null && 'message' in thrown) {
    return new HandlerFailedError(String((thrown as { message: unknown }).message), thrown);
  }
  return new HandlerFailedError(String(thrown), thrown);
}
