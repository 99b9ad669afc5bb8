import { GatewayError } from '../errors';

export interface HttpCall {
  url: string;
  headers: Record<string, string>;
  body: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
  target: string;
}

/**
 * POSTs JSON and returns the parsed answer, or throws a classified
 * GatewayError. The timeout covers the whole exchange, body included, so a
 * provider that sends headers and then stalls is cut off too.
 */
export async function postJson(call: HttpCall): Promise<unknown> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, call.timeoutMs);
  const onCallerAbort = (): void => controller.abort();
  call.signal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    if (call.signal?.aborted) throw new GatewayError('aborted', `${call.target}: call aborted`, false, { target: call.target });
    let response: Response;
    let text: string;
    try {
      response = await fetch(call.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...call.headers },
        body: JSON.stringify(call.body),
        signal: controller.signal,
      });
      text = await response.text();
    } catch (error) {
      if (timedOut) {
        throw new GatewayError('timeout', `${call.target}: no complete answer within ${call.timeoutMs} ms`, true, {
          target: call.target,
        });
      }
      if (call.signal?.aborted) throw new GatewayError('aborted', `${call.target}: call aborted`, false, { target: call.target });
      throw new GatewayError('network', `${call.target}: ${describeCause(error)}`, true, { target: call.target });
    }
    if (!response.ok) throw httpError(call.target, response, text);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new GatewayError('invalid_response', `${call.target}: answer is not JSON: ${text.slice(0, 200)}`, false, {
        target: call.target,
        status: response.status,
      });
    }
  } finally {
    clearTimeout(timer);
    call.signal?.removeEventListener('abort', onCallerAbort);
  }
}

function httpError(target: string, response: Response, text: string): GatewayError {
  const status = response.status;
  const detail = `${target}: HTTP ${status}: ${text.slice(0, 300)}`;
  const retryAfterMs = parseRetryAfter(response.headers);
  if (status === 429) return new GatewayError('rate_limited', detail, true, { status, retryAfterMs, target });
  if (status === 401 || status === 403) return new GatewayError('auth', detail, false, { status, target });
  // 408 request timeout, 409 (Anthropic's lock contention), 5xx and 529 (overloaded) may pass on a second try.
  if (status === 408 || status === 409 || status >= 500) {
    return new GatewayError('server_error', detail, true, { status, retryAfterMs, target });
  }
  return new GatewayError('bad_request', detail, false, { status, target });
}

/** `retry-after-ms` (OpenAI), else `retry-after` in seconds or as an HTTP date. */
export function parseRetryAfter(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function describeCause(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}

/** Parses tool-call argument text; undefined (not a throw) when the model wrote something that is not JSON. */
export function parseArguments(raw: string): unknown {
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}
