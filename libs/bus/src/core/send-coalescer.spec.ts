import type { TopicMessages } from 'kafkajs';
import { SendCoalescer } from './send-coalescer';

/** A produce call the test completes by hand, recording what each request carried. */
function controlledSend() {
  const requests: Array<{ batch: TopicMessages[]; finish: (error?: Error) => void }> = [];
  const send = (batch: TopicMessages[]): Promise<void> =>
    new Promise<void>((resolve, reject) => requests.push({ batch, finish: (error) => (error ? reject(error) : resolve()) }));
  const carried = (i: number): string[] =>
    (requests[i]?.batch ?? []).flatMap((t) => t.messages.map((m) => `${t.topic}:${String(m.value)}`));
  return { requests, send, carried };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SendCoalescer', () => {
  it('sends what one tick queued in one request, and what is queued meanwhile together in the next, in order', async () => {
    const { requests, send, carried } = controlledSend();
    const coalescer = new SendCoalescer(send, 1_000_000);
    const first = [coalescer.enqueue('a', [{ value: '1' }]), coalescer.enqueue('b', [{ value: '2' }])];
    await tick();
    const queued = [
      coalescer.enqueue('a', [{ value: '3' }]),
      coalescer.enqueue('b', [{ value: '4' }]),
      coalescer.enqueue('a', [{ value: '5' }]),
    ];
    await tick();
    expect(requests).toHaveLength(1);
    expect(carried(0)).toEqual(['a:1', 'b:2']);
    requests[0]?.finish();
    await Promise.all(first);
    await tick();
    expect(requests).toHaveLength(2);
    expect(carried(1)).toEqual(['a:3', 'a:5', 'b:4']);
    requests[1]?.finish();
    await Promise.all(queued);
  });

  it('keeps a request under the byte budget; a single larger send goes alone', async () => {
    const { requests, send, carried } = controlledSend();
    const coalescer = new SendCoalescer(send, 10);
    const all = [
      coalescer.enqueue('t', [{ value: 'x' }]),
      coalescer.enqueue('t', [{ value: '123456' }]),
      coalescer.enqueue('t', [{ value: '7890' }]),
      coalescer.enqueue('t', [{ value: 'abcdefghijklmnop' }]),
      coalescer.enqueue('t', [{ value: 'y' }]),
    ];
    for (let i = 0; i < 4; i += 1) {
      await tick();
      requests[i]?.finish();
      await tick();
    }
    await Promise.all(all);
    expect([0, 1, 2, 3].map(carried)).toEqual([['t:x', 't:123456'], ['t:7890'], ['t:abcdefghijklmnop'], ['t:y']]);
  });

  it('fails exactly the sends a failed request carried, and carries on with the rest', async () => {
    const { requests, send } = controlledSend();
    const coalescer = new SendCoalescer(send, 1_000_000);
    const first = coalescer.enqueue('t', [{ value: '1' }]);
    await tick();
    const second = coalescer.enqueue('t', [{ value: '2' }]);
    requests[0]?.finish(new Error('broker down'));
    await expect(first).rejects.toThrow('broker down');
    await tick();
    requests[1]?.finish();
    await expect(second).resolves.toBeUndefined();
  });
});
