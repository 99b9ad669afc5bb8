export type GatewayErrorCode =
  | 'rate_limited'
  | 'timeout'
  | 'server_error'
  | 'network'
  | 'bad_request'
  | 'auth'
  | 'invalid_response'
  | 'unknown_model'
  | 'aborted'
  | 'all_targets_failed';

/**
 * A model call that did not produce an answer. `retryable` says whether the
 * same target may succeed when asked again (429, 5xx, timeouts, network);
 * `retryAfterMs` carries the provider's own hint.
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly details: { status?: number; retryAfterMs?: number; target?: string; causes?: GatewayError[] } = {},
  ) {
    super(message);
  }
}

export function isGatewayError(error: unknown): error is GatewayError {
  return error instanceof GatewayError;
}
