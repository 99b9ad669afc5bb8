import { WakeSignal } from './wake-signal';

const HOUR = 3_600_000;

describe('WakeSignal', () => {
  it('wakes a waiter on notify', async () => {
    const signal = new WakeSignal();
    const waiting = signal.wait(HOUR);
    signal.notify();
    await expect(waiting).resolves.toBe(true);
  });

  it('remembers a notify that arrived while nobody waited, once', async () => {
    const signal = new WakeSignal();
    signal.notify();
    signal.notify();
    await expect(signal.wait(HOUR)).resolves.toBe(true);
    let woken = false;
    const second = signal.wait(5).then(() => (woken = true));
    expect(woken).toBe(false);
    await second;
    await expect(signal.wait(1)).resolves.toBe(false);
  });

  it('resolves on its own after the timeout, saying nobody woke it', async () => {
    await expect(new WakeSignal().wait(1)).resolves.toBe(false);
  });
});
