import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { createEnvelope, parseEnvelope } from '../envelope/envelope-codec';
import { ContractValidationError, describeIssues } from '../envelope/validation-error';
import { errorInfoSchema, jsonValueSchema } from './common';
import { taskCompleted } from './task/task-messages';
import { workflowDefinitionSchema } from './workflow/workflow-definition';
import { workflowRequested } from './workflow/workflow-requested.message';
import { TOPICS } from '../topics/topics';

const NUL = 'contains a NUL character (U+0000), which cannot be stored';
const surrogate = (hex: string): string => `contains an unpaired UTF-16 surrogate (U+${hex}), which cannot be stored`;

const issues = (schema: z.ZodType, value: unknown, prefix?: string): string[] => {
  const parsed = schema.safeParse(value);
  return parsed.success ? [] : describeIssues(parsed.error, prefix);
};

/** Postgres rejects (22P05) the JSON text of any string holding these. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/; // eslint-disable-line no-control-regex

describe('jsonValueSchema: only strings Postgres jsonb can store', () => {
  it('refuses a NUL character in a value, naming the field', () => {
    expect(issues(jsonValueSchema, { x: 'a\u0000b' }, 'input')).toEqual([`input.x: ${NUL}`]);
    expect(issues(jsonValueSchema, '\u0000')).toEqual([`(root): ${NUL}`]);
  });

  it('refuses a NUL character in a nested array, naming every offending element', () => {
    expect(issues(jsonValueSchema, { list: [1, ['fine', 'a\u0000'], { deep: ['\u0000'] }] }, 'input')).toEqual([
      `input.list[1][1]: ${NUL}`,
      `input.list[2].deep[0]: ${NUL}`,
    ]);
  });

  it('refuses a NUL character in an object key, quoting the key escaped so the error itself can be stored', () => {
    const found = issues(jsonValueSchema, { outer: { 'a\u0000b': 1 } }, 'input');
    expect(found).toEqual([`input.outer.a\\u0000b: key ${NUL}`]);
    expect(found.join('\n')).not.toMatch(UNSTORABLE);
  });

  it('refuses a lone high surrogate, in the middle or at the end of a string, and in a key', () => {
    expect(issues(jsonValueSchema, { a: 'x\ud800y', b: 'ends with \ud83d' })).toEqual([
      `a: ${surrogate('D800')}`,
      `b: ${surrogate('D83D')}`,
    ]);
    expect(issues(jsonValueSchema, { ['k\udbff']: true })).toEqual([`k\\udbff: key ${surrogate('DBFF')}`]);
  });

  it('refuses a lone low surrogate, including one that comes before its high half', () => {
    expect(issues(jsonValueSchema, ['\udc00x'])).toEqual([`[0]: ${surrogate('DC00')}`]);
    expect(issues(jsonValueSchema, ['\ude00\ud83d'])).toEqual([`[0]: ${surrogate('DE00')}`]);
  });

  it('accepts valid surrogate pairs (an emoji), other control characters and ordinary JSON', () => {
    const value = { '😀 key': ['😀', '\ud83d\ude00', 'tab\tand\u0001', 'ü'], n: 1.5, ok: true, none: null };
    expect(jsonValueSchema.parse(value)).toEqual(value);
  });
});

describe('other stored strings', () => {
  it('refuses unstorable text in an error (kept in the step and workflow error columns)', () => {
    expect(issues(errorInfoSchema, { code: 'x\u0000', message: 'bad \udfff', retryable: false })).toEqual([
      `code: ${NUL}`,
      `message: ${surrogate('DFFF')}`,
    ]);
  });

  it('refuses unstorable text anywhere in a workflow definition (stored whole, as jsonb), params keys included', () => {
    const definition = {
      name: 'wf',
      pattern: 'sequential',
      description: 'd\u0000',
      steps: [{ id: 'a', capability: 'c', params: { ['p\u0000']: 1, q: ['\ud800'] }, input: { x: '\u0000' } }],
    };
    expect(issues(workflowDefinitionSchema, definition)).toEqual([
      `description: ${NUL}`,
      `steps[0].params.q[0]: ${surrogate('D800')}`,
      `steps[0].params.p\\u0000: key ${NUL}`,
      `steps[0].input.x: ${NUL}`,
    ]);
  });

  it('makes a consumer refuse a task.completed whose output holds a NUL, naming the field (dead-lettered, not retried)', () => {
    const workflowId = randomUUID();
    const envelope = {
      id: randomUUID(),
      type: 'task.completed',
      version: 1,
      occurredAt: new Date().toISOString(),
      source: 'agent',
      correlationId: workflowId,
      payload: {
        taskId: randomUUID(),
        workflowId,
        stepId: 'a',
        attempt: 1,
        agentId: 'agent',
        output: { summary: 'a\u0000b' },
        confidence: 1,
        usage: { model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0 },
      },
    };
    expect(() => parseEnvelope(TOPICS.tasksResults, JSON.stringify(envelope))).toThrow(
      new ContractValidationError([`payload.output.summary: ${NUL}`], `invalid ${taskCompleted.type}@1 on ${TOPICS.tasksResults}`),
    );
  });

  it('refuses to build an envelope with unstorable text in its payload or its header', () => {
    const workflowId = randomUUID();
    const payload = {
      workflowId,
      definition: { name: 'wf', pattern: 'sequential' as const, steps: [{ id: 'a', capability: 'c' }] },
      input: {},
      requestedBy: 'me\u0000',
    };
    expect(() => createEnvelope(workflowRequested, payload, { source: 's', correlationId: workflowId })).toThrow(
      `payload.requestedBy: ${NUL}`,
    );
    expect(() =>
      createEnvelope(workflowRequested, { ...payload, requestedBy: 'me' }, { source: 's', correlationId: `${workflowId}\ud800` }),
    ).toThrow(`correlationId: ${surrogate('D800')}`);
  });
});
