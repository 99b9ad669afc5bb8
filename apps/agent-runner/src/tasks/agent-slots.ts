/** A counting semaphore per agent: at most `maxConcurrency` of its tasks run at once; the rest wait in order. */
export class AgentSlots {
  private used = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.used;
  }

  acquire(): Promise<void> {
    if (this.used < this.capacity) {
      this.used += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    // The slot passes straight to the next waiter, so `used` stays the same.
    if (next) next();
    else this.used -= 1;
  }
}
