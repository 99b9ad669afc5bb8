import { createHash } from 'node:crypto';
import type { JsonValue } from '@baton/contracts';

export const DETERMINISTIC_MODEL = 'baton-deterministic-v1';

export interface ModelAnswer {
  output: JsonValue;
  confidence: number;
  inputTokens: number;
  outputTokens: number;
}

/**
 * The built-in model for demos and tests: the same capability and input always
 * give the same answer, and the answer says where it came from so nobody takes
 * it for a real model's reasoning.
 */
export function deterministicAnswer(capability: string, input: JsonValue): ModelAnswer {
  const serialized = stableStringify(input);
  const digest = createHash('sha256').update(`${capability}\n${serialized}`).digest();
  const confidence = 0.6 + (digest.readUInt16BE(0) / 0xffff) * 0.39;
  const inputTokens = Math.max(1, Math.ceil(serialized.length / 4));
  const output = {
    model: DETERMINISTIC_MODEL,
    generatedBy: 'Baton built-in deterministic model (not a language model)',
    capability,
    digest: digest.toString('hex').slice(0, 16),
    summary: `${capability} of ${describe(input)}`,
  };
  return {
    output,
    confidence: Math.round(confidence * 1000) / 1000,
    inputTokens,
    outputTokens: Math.ceil(stableStringify(output).length / 4),
  };
}

function describe(input: JsonValue): string {
  if (input === null) return 'nothing';
  if (Array.isArray(input)) return `${input.length} items`;
  if (typeof input === 'object') {
    const keys = Object.keys(input).sort();
    return keys.length === 0 ? 'an empty object' : `{${keys.join(', ')}}`;
  }
  return JSON.stringify(input).slice(0, 60);
}

/** JSON with sorted keys, so equal values always hash equally. */
export function stableStringify(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${stableStringify(value[key] as JsonValue)}`).join(',')}}`;
}
