/**
 * A wake-up that is never lost: a notify() arriving while nobody waits makes
 * the next wait() return at once, so work committed between "read an empty
 * batch" and "go to sleep" still triggers a read. The relays that publish
 * through the bus (the Postgres outbox, context-graph's push outbox) sleep on it.
 */
export class WakeSignal {
  private pending = false;
  private waiter: (() => void) | undefined;

  notify(): void {
    if (this.waiter) {
      const wake = this.waiter;
      this.waiter = undefined;
      wake();
    } else {
      this.pending = true;
    }
  }

  /** Resolves on notify() (true) or after `timeoutMs` (false), whichever comes first. */
  wait(timeoutMs: number): Promise<boolean> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(false);
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }
}
