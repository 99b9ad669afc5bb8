/**
 * A wake-up that is never lost: a notify() while nobody waits makes the next wait() return at once, so a commit
 * landing between "read nothing pending" and "go to sleep" is still relayed without waiting for the poll.
 */
export class WakeSignal {
  private pending = false;
  private waiter: (() => void) | undefined;

  notify(): void {
    const wake = this.waiter;
    this.waiter = undefined;
    if (wake) wake();
    else this.pending = true;
  }

  /** Resolves on notify() or after `timeoutMs`, whichever comes first. */
  wait(timeoutMs: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve();
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
