import { GatewayError } from '../errors';
import type { ChatMessage, FinishReason, ProviderResult, ToolCall } from '../types';
import { parseArguments, postJson } from './http';
import type { ChatProvider, ProviderCall } from './provider';

export interface OpenAiProviderOptions {
  name: string;
  baseUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
  timeoutMs: number;
}

/**
 * OpenAI-compatible chat completions (`POST {baseUrl}/chat/completions`): OpenAI,
 * vLLM, Ollama, LM Studio and other servers speaking the same format.
 */
export class OpenAiProvider implements ChatProvider {
  readonly system = 'openai';
  constructor(private readonly options: OpenAiProviderOptions) {}

  async chat(call: ProviderCall): Promise<ProviderResult> {
    const { request } = call;
    const target = `${this.options.name}/${call.model}`;
    const body: Record<string, unknown> = {
      model: call.model,
      messages: request.messages.map(toWireMessage),
    };
    if (request.tools && request.tools.length > 0) {
      body['tools'] = request.tools.map((tool) => ({
        type: 'function',
        function: { name: tool.name, description: tool.description, parameters: tool.parameters },
      }));
    }
    if (request.maxTokens !== undefined) body['max_tokens'] = request.maxTokens;
    if (request.temperature !== undefined) body['temperature'] = request.temperature;
    if (request.json) body['response_format'] = { type: 'json_object' };

    const answer = await postJson({
      url: `${this.options.baseUrl.replace(/\/+$/, '')}/chat/completions`,
      headers: {
        ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
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

function toWireMessage(message: ChatMessage): Record<string, unknown> {
  switch (message.role) {
    case 'system':
    case 'user':
      return { role: message.role, content: message.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content,
        ...(message.toolCalls && message.toolCalls.length > 0
          ? {
              tool_calls: message.toolCalls.map((call) => ({
                id: call.id,
                type: 'function',
                function: { name: call.name, arguments: call.rawArguments },
              })),
            }
          : {}),
      };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
  }
}

interface WireAnswer {
  model?: unknown;
  choices?: Array<{
    message?: { content?: unknown; tool_calls?: Array<{ id?: unknown; function?: { name?: unknown; arguments?: unknown } }> };
    finish_reason?: unknown;
  }>;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
}

function fromWire(raw: unknown, target: string, requestedModel: string): ProviderResult {
  const answer = raw as WireAnswer;
  const choice = Array.isArray(answer?.choices) ? answer.choices[0] : undefined;
  if (!choice || typeof choice.message !== 'object' || choice.message === null) {
    throw new GatewayError('invalid_response', `${target}: answer has no choices[0].message`, false, { target });
  }
  const toolCalls: ToolCall[] = (choice.message.tool_calls ?? []).map((call, index) => {
    const rawArguments = typeof call.function?.arguments === 'string' ? call.function.arguments : '';
    return {
      id: typeof call.id === 'string' ? call.id : `call_${index}`,
      name: typeof call.function?.name === 'string' ? call.function.name : '',
      arguments: parseArguments(rawArguments),
      rawArguments,
    };
  });
  return {
    content: typeof choice.message.content === 'string' ? choice.message.content : null,
    toolCalls,
    finishReason: finishReason(choice.finish_reason, toolCalls.length > 0),
    usage: {
      inputTokens: count(answer.usage?.prompt_tokens),
      outputTokens: count(answer.usage?.completion_tokens),
    },
    model: typeof answer.model === 'string' ? answer.model : requestedModel,
  };
}

function finishReason(value: unknown, hasToolCalls: boolean): FinishReason {
  switch (value) {
    case 'stop':
      return hasToolCalls ? 'tool_calls' : 'stop';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    default:
      return hasToolCalls ? 'tool_calls' : 'other';
  }
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.round(value) : 0;
}
