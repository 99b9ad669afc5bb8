import {
  ContractValidationError,
  type Envelope,
  TASK_COMPLETED,
  createEnvelope,
  serializeEnvelope,
  taskCompleted,
  taskFailed,
} from '@baton/contracts';
import { randomUUID } from 'node:crypto';
import { encodeOutgoing, parseReply } from './envelope-validation';

function completed(): Envelope<Parameters<typeof taskCompleted.key>[0]['payload']> {
  return createEnvelope(
    taskCompleted,
    {
      taskId: randomUUID(),
      workflowId: randomUUID(),
      stepId: 'step-1',
      attempt: 1,
      agentId: 'agent-1',
      output: { ok: true },
      confidence: 0.9,
      usage: { model: 'builtin', inputTokens: 1, outputTokens: 1, costUsd: 0 },
    },
    { source: 'test', correlationId: 'wf-1' },
  );
}

describe('encodeOutgoing', () => {
  it('returns the serialised envelope of a valid message', () => {
    const envelope = completed();
    expect(encodeOutgoing(taskCompleted, envelope).toString('utf8')).toBe(JSON.stringify(envelope));
  });

  it('refuses a hand-made envelope whose payload breaks the contract, naming the field', () => {
    const envelope = completed();
    const broken = { ...envelope, payload: { ...envelope.payload, confidence: 7 } };
    expect(() => encodeOutgoing(taskCompleted, broken)).toThrow(ContractValidationError);
    expect(() => encodeOutgoing(taskCompleted, broken)).toThrow(/payload\.confidence/);
  });

  it('refuses an envelope of another type than the contract', () => {
    const envelope = completed();
    expect(() => encodeOutgoing(taskFailed as never, envelope as never)).toThrow(/contract is task\.failed@1/);
  });
});

describe('parseReply', () => {
  it('validates by type and version whatever topic the reply arrived on', () => {
    const envelope = completed();
    const { envelope: parsed, contract } = parseReply(serializeEnvelope(envelope));
    expect(contract.type).toBe(TASK_COMPLETED);
    expect(parsed.id).toBe(envelope.id);
  });

  it('names the field of an invalid reply', () => {
    const envelope = completed();
    const raw = Buffer.from(JSON.stringify({ ...envelope, payload: { ...envelope.payload, stepId: undefined } }));
    expect(() => parseReply(raw)).toThrow(/payload\.stepId: required/);
  });

  it('rejects unknown types and non-JSON', () => {
    const envelope = completed();
    expect(() => parseReply(Buffer.from(JSON.stringify({ ...envelope, type: 'nope' })))).toThrow(/unknown message nope@1/);
    expect(() => parseReply(Buffer.from('not json'))).toThrow(/not JSON/);
  });
});
