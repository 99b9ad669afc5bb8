import { SpanKind } from '@opentelemetry/api';
import { withSpan } from '@baton/telemetry';
import { splitTarget, type GatewayConfig, type ModelPrice, type ProviderConfig } from './config';
import { GatewayError, isGatewayError } from './errors';
import { AnthropicProvider } from './providers/anthropic.provider';
import { BuiltinProvider } from './providers/builtin.provider';
import { OpenAiProvider } from './providers/openai.provider';
import type { ChatProvider } from './providers/provider';
import type { AttemptRecord, ChatRequest, ChatResponse, ProviderResult, TokenUsage } from './types';

export interface LlmGatewayOptions {
  /** Source of jitter in [0, 1); injectable so backoff is reproducible in tests. */
  random?: () => number;
}

export interface ChatOptions {
  /** Aborts the call (and any backoff wait) when the caller gives up, e.g. a cancelled task. */
  signal?: AbortSignal;
}

interface ResolvedTarget {
  target: string;
  providerName: string;
  model: string;
  provider: ChatProvider;
  config: ProviderConfig;
  price: ModelPrice;
}

/** Cost of a call in US dollars from the per-million-token prices. */
export function costOf(usage: TokenUsage, price: ModelPrice): number {
  const cost = (usage.inputTokens * price.inputUsdPer1M + usage.outputTokens * price.outputUsdPer1M) / 1_000_000;
  return Math.round(cost * 1e10) / 1e10;
}

/**
 * Provider-agnostic model access. A request names an alias; the gateway tries
 * its targets in order, retrying each on retryable failures (429, 5xx,
 * timeouts, network) with jittered exponential backoff that honours
 * `retry-after`, then falls back to the next target. Every provider call is
 * one CLIENT span with the OpenTelemetry gen_ai attributes.
 */
export class LlmGateway {
  private readonly providers = new Map<string, ChatProvider>();
  private readonly random: () => number;

  constructor(
    private readonly config: GatewayConfig,
    options: LlmGatewayOptions = {},
  ) {
    this.random = options.random ?? Math.random;
    for (const [name, provider] of Object.entries(config.providers)) {
      this.providers.set(name, createProvider(name, provider, config.apiKeys[name]));
    }
  }

  /** Whether a model alias (or exact `provider/model`) resolves to at least one target. */
  has(model: string): boolean {
    try {
      return this.resolve(model).length > 0;
    } catch {
      return false;
    }
  }

  /** The `provider/model` targets of an alias, in fallback order. */
  targetsOf(model: string): string[] {
    return this.resolve(model).map((target) => target.target);
  }

  async chat(request: ChatRequest, options: ChatOptions = {}): Promise<ChatResponse> {
    const targets = this.resolve(request.model);
    const attempts: AttemptRecord[] = [];
    const failures: GatewayError[] = [];
    for (const target of targets) {
      for (let attempt = 0; ; attempt += 1) {
        const started = performance.now();
        try {
          const result = await this.callTarget(target, request, options.signal);
          const modelTimeMs = performance.now() - started;
          attempts.push({ target: target.target, outcome: 'ok', durationMs: Math.round(modelTimeMs) });
          return {
            ...result,
            costUsd: costOf(result.usage, target.price),
            target: target.target,
            provider: target.providerName,
            modelTimeMs,
            attempts,
          };
        } catch (caught) {
          const error = isGatewayError(caught)
            ? caught
            : new GatewayError('invalid_response', `${target.target}: ${String(caught)}`, false, { target: target.target });
          attempts.push({
            target: target.target,
            outcome: 'error',
            errorCode: error.code,
            durationMs: Math.round(performance.now() - started),
          });
          if (error.code === 'aborted') throw error;
          const delay = error.retryable && attempt < target.config.maxRetries ? this.backoff(attempt, error) : undefined;
          if (delay === undefined) {
            failures.push(error);
            break;
          }
          await sleep(delay, options.signal);
          if (options.signal?.aborted) throw new GatewayError('aborted', `${target.target}: call aborted`, false);
        }
      }
    }
    throw new GatewayError(
      'all_targets_failed',
      `model "${request.model}": every target failed: ${failures.map((failure) => failure.message).join(' | ')}`,
      failures.some((failure) => failure.retryable),
      { causes: failures },
    );
  }

  /**
   * Full jitter over an exponential ceiling. A provider's retry-after is a
   * floor; when it asks for longer than the configured maximum, waiting is
   * worse than falling back, so the target is given up (undefined).
   */
  private backoff(attempt: number, error: GatewayError): number | undefined {
    const { baseDelayMs, maxDelayMs } = this.config.retry;
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
    const jittered = Math.round(this.random() * ceiling);
    const retryAfter = error.details.retryAfterMs;
    if (retryAfter === undefined) return jittered;
    if (retryAfter > maxDelayMs) return undefined;
    return retryAfter + Math.round(this.random() * Math.min(baseDelayMs, maxDelayMs - retryAfter));
  }

  private callTarget(target: ResolvedTarget, request: ChatRequest, signal?: AbortSignal): Promise<ProviderResult> {
    const attributes: Record<string, string | number> = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': target.provider.system,
      'gen_ai.provider.name': target.provider.system,
      'gen_ai.request.model': target.model,
      'baton.gen_ai.target': target.target,
      'baton.gen_ai.alias': request.model,
    };
    if (request.maxTokens !== undefined) attributes['gen_ai.request.max_tokens'] = request.maxTokens;
    if (request.temperature !== undefined) attributes['gen_ai.request.temperature'] = request.temperature;
    return withSpan(
      `chat ${target.model}`,
      attributes,
      async (span) => {
        const result = await target.provider.chat({ request, model: target.model, signal });
        span.setAttributes({
          'gen_ai.response.model': result.model,
          'gen_ai.response.finish_reasons': [result.finishReason],
          'gen_ai.usage.input_tokens': result.usage.inputTokens,
          'gen_ai.usage.output_tokens': result.usage.outputTokens,
          'baton.gen_ai.cost_usd': costOf(result.usage, target.price),
        });
        return result;
      },
      { kind: SpanKind.CLIENT },
    );
  }

  private resolve(model: string): ResolvedTarget[] {
    const targets = this.config.aliases[model] ?? (model.includes('/') ? [model] : undefined);
    if (!targets) throw new GatewayError('unknown_model', `unknown model alias "${model}"`, false);
    return targets.map((target) => {
      const [providerName, providerModel] = splitTarget(target);
      const config = this.config.providers[providerName];
      const provider = this.providers.get(providerName);
      const price = config?.models[providerModel];
      if (!config || !provider || !price) {
        throw new GatewayError('unknown_model', `unknown model "${target}" (no such provider or priced model)`, false);
      }
      return { target, providerName, model: providerModel, provider, config, price };
    });
  }
}

function createProvider(name: string, config: ProviderConfig, apiKey: string | undefined): ChatProvider {
  switch (config.kind) {
    case 'openai':
      return new OpenAiProvider({ name, baseUrl: config.baseUrl, apiKey, headers: config.headers, timeoutMs: config.timeoutMs });
    case 'anthropic':
      return new AnthropicProvider({
        name,
        baseUrl: config.baseUrl,
        apiKey,
        headers: config.headers,
        timeoutMs: config.timeoutMs,
        anthropicVersion: config.anthropicVersion,
      });
    case 'builtin':
      return new BuiltinProvider();
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
