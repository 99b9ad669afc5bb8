import { z } from 'zod';
import { resultEnvelopeId } from './result-id';

describe('resultEnvelopeId', () => {
  it('is a valid uuid, stable for a task and distinct across tasks', () => {
    const a = resultEnvelopeId('0f7c2a8e-1111-4aaa-8bbb-000000000001');
    expect(z.uuid().safeParse(a).success).toBe(true);
    expect(resultEnvelopeId('0f7c2a8e-1111-4aaa-8bbb-000000000001')).toBe(a);
    expect(resultEnvelopeId('0f7c2a8e-1111-4aaa-8bbb-000000000002')).not.toBe(a);
  });
});
