import { GatewayError } from '../errors';
import type { ChatMessage, FinishReason, ProviderResult, ToolCall } from '../types';
import { postJson } from './http';
import type { ChatProvider, ProviderCall } from './provider';

export interface AnthropicProviderOptions {
  name: string;
  baseUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  anthropicVersion: string;
}

/** Anthropic's Messages API must be told a ceiling; this is used when the request sets none. */
const DEFAULT_MAX_TOKENS = 4096;

/** The Anthropic Messages API (`POST {baseUrl}/v1/messages`). */
export class AnthropicProvider implements ChatProvider {
  readonly system = 'anthropic';
  constructor(private readonly options: AnthropicProviderOptions) {}

  async chat(call: ProviderCall): Promise<ProviderResult> {
    const { request } = call;
    const target = `${this.options.name}/${call.model}`;
    const system = request.messages
      .filter((message) => message.role === 'system')
      .map((message) => message.content)
      .join('\n\n');
    const body: Record<string, unknown> = {
      model: call.model,
      max_tokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
      messages: toWireMessages(request.messages),
    };
    if (system) body['system'] = system;
    if (request.temperature !== undefined) body['temperature'] = request.temperature;
    if (request.tools && request.tools.length > 0) {
      body['tools'] = request.tools.map((tool) => ({
        name: tool.name,
        description: tool.description,
        input_schema: tool.parameters,
      }));
    }
    const answer = await postJson({
      url: `${this.options.baseUrl.replace(/\/+$/, '')}/v1/messages`,
      headers: {
        'anthropic-version': this.options.anthropicVersion,
        ...(this.options.apiKey ? { 'x-api-key': this.options.apiKey } : {}),
        ...this.options.headers,
      },
      body,
      timeoutMs: this.options.timeoutMs,
      signal: call.signal,
      target,
    });
    return fromWire(answer, target, call.model);
  }
}

type Block = Record<string, unknown>;

/**
 * Anthropic wants alternating user/assistant turns, tool results as
 * `tool_result` blocks inside a user turn, and the system prompt apart.
 */
function toWireMessages(messages: ChatMessage[]): Array<{ role: 'user' | 'assistant'; content: Block[] }> {
  const out: Array<{ role: 'user' | 'assistant'; content: Block[] }> = [];
  const push = (role: 'user' | 'assistant', blocks: Block[]): void => {
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        break;
      case 'user':
        push('user', [{ type: 'text', text: message.content }]);
        break;
      case 'assistant': {
        const blocks: Block[] = [];
        if (message.content) blocks.push({ type: 'text', text: message.content });
        for (const call of message.toolCalls ?? []) {
          blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: call.arguments ?? {} });
        }
        push('assistant', blocks);
        break;
      }
      case 'tool':
        push('user', [
          {
            type: 'tool_result',
            tool_use_id: message.toolCallId,
            content: message.content,
            ...(message.isError ? { is_error: true } : {}),
          },
        ]);
        break;
    }
  }
  return out;
}

interface WireAnswer {
  type?: unknown;
  model?: unknown;
  content?: Array<{ type?: unknown; text?: unknown; id?: unknown; name?: unknown; input?: unknown }>;
  stop_reason?: unknown;
  usage?: { input_tokens?: unknown; output_tokens?: unknown };
}

function fromWire(raw: unknown, target: string, requestedModel: string): ProviderResult {
  const answer = raw as WireAnswer;
  if (!answer || !Array.isArray(answer.content)) {
    throw new GatewayError('invalid_response', `${target}: answer has no content blocks`, false, { target });
  }
  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  answer.content.forEach((block, index) => {
    if (block.type === 'text' && typeof block.text === 'string') texts.push(block.text);
    if (block.type === 'tool_use') {
      toolCalls.push({
        id: typeof block.id === 'string' ? block.id : `toolu_${index}`,
        name: typeof block.name === 'string' ? block.name : '',
        arguments: block.input,
        rawArguments: JSON.stringify(block.input ?? null),
      });
    }
  });
  return {
    content: texts.length > 0 ? texts.join('') : null,
    toolCalls,
    finishReason: finishReason(answer.stop_reason, toolCalls.length > 0),
    usage: { inputTokens: count(answer.usage?.input_tokens), outputTokens: count(answer.usage?.output_tokens) },
    model: typeof answer.model === 'string' ? answer.model : requestedModel,
  };
}

function finishReason(value: unknown, hasToolCalls: boolean): FinishReason {
  switch (value) {
    case 'end_turn':
    case 'stop_sequence':
      return hasToolCalls ? 'tool_calls' : 'stop';
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
      return 'length';
    case 'refusal':
      return 'content_filter';
    default:
      return hasToolCalls ? 'tool_calls' : 'other';
  }
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.round(value) : 0;
}
