import { decodeHeaders } from './message-headers';

describe('decodeHeaders', () => {
  it('turns Kafka header bytes into strings, the last of a repeated header winning', () => {
    const decoded = decodeHeaders({
      traceparent: Buffer.from('00-abc'),
      'baton-type': 'task.completed',
      repeated: [Buffer.from('first'), 'second'],
      absent: undefined,
    });
    expect(decoded).toEqual({ traceparent: '00-abc', 'baton-type': 'task.completed', repeated: 'second' });
  });
});
