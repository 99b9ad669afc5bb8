/**
 * The gateway's one internal shape for chat, whatever the provider's wire
 * format. Providers translate to and from it; callers never see a wire format.
 */
export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

export interface ToolCall {
  /** The provider's id for the call, echoed back on the tool result. */
  id: string;
  name: string;
  /** Parsed JSON arguments; `undefined` when the model sent text that is not JSON (see rawArguments). */
  arguments: unknown;
  /** The arguments exactly as the model produced them. */
  rawArguments: string;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; name: string; content: string; isError?: boolean };

export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface ChatRequest {
  /** A model alias from the gateway configuration (or `provider/model` for one exact target). */
  model: string;
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  maxTokens?: number;
  temperature?: number;
  /** Ask for a JSON object answer (providers that support it enforce it; the caller still validates). */
  json?: boolean;
  /** Free-form hints some providers use (the built-in model reads `capability`). */
  metadata?: Record<string, string>;
}

export type FinishReason = 'stop' | 'tool_calls' | 'length' | 'content_filter' | 'other';

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** One provider call as the gateway tried it: kept so callers and traces can tell what fell back. */
export interface AttemptRecord {
  target: string;
  outcome: 'ok' | 'error';
  errorCode?: string;
  durationMs: number;
}

export interface ChatResponse {
  content: string | null;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: TokenUsage;
  /** Cost of this call from the price table, in US dollars. */
  costUsd: number;
  /** `provider/model` that answered. */
  target: string;
  provider: string;
  /** The provider's own model name (as it reported it, else as requested). */
  model: string;
  /** Milliseconds spent inside the successful provider call (model time). */
  modelTimeMs: number;
  attempts: AttemptRecord[];
}

/** What a provider returns before the gateway adds cost and bookkeeping. */
export interface ProviderResult {
  content: string | null;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: TokenUsage;
  model: string;
}
