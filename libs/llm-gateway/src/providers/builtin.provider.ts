import type { JsonValue } from '@baton/contracts';
import type { ProviderResult } from '../types';
import { deterministicAnswer } from './deterministic-model';
import type { ChatProvider, ProviderCall } from './provider';

/**
 * The deterministic built-in model behind the same interface as real
 * providers. It answers with a JSON object (including a `confidence`) derived
 * from the capability and the input: `metadata.capability` and `metadata.input`
 * when the caller sets them, else the last user message.
 */
export class BuiltinProvider implements ChatProvider {
  readonly system = 'baton';

  async chat(call: ProviderCall): Promise<ProviderResult> {
    const { request } = call;
    const capability = request.metadata?.['capability'] ?? 'chat';
    const lastUser = [...request.messages].reverse().find((message) => message.role === 'user');
    const input = parseLoose(request.metadata?.['input'] ?? (lastUser ? lastUser.content : ''));
    const answer = deterministicAnswer(capability, input);
    return {
      content: JSON.stringify({ ...(answer.output as Record<string, JsonValue>), confidence: answer.confidence }),
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: answer.inputTokens, outputTokens: answer.outputTokens },
      model: call.model,
    };
  }
}

function parseLoose(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}
