import type { ChatRequest, ProviderResult } from '../types';

export interface ProviderCall {
  request: ChatRequest;
  /** The provider's model name (the part after `provider/`). */
  model: string;
  signal?: AbortSignal;
}

/** One model provider speaking one wire format. */
export interface ChatProvider {
  /** gen_ai.provider.name for traces (openai, anthropic, baton). */
  readonly system: string;
  chat(call: ProviderCall): Promise<ProviderResult>;
}
