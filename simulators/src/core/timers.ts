interface Pending {
  timer: NodeJS.Timeout;
  /** Runs when cancelled: a sleep resolves early, a scheduled task is dropped. */
  cancel(): void;
}

/**
 * Every timer a simulator starts (slow answers, payers deciding, callbacks) goes through one of
 * these, so that `reset()` and `close()` can stop them all: a test that ends must not leave a
 * callback firing into the next one, nor keep jest waiting.
 */
export class Timers {
  private readonly pending = new Set<Pending>();

  /** Resolves after `ms`, or at once when the simulator is reset or closed. */
  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const entry: Pending = {
        timer: setTimeout(() => {
          this.pending.delete(entry);
          resolve();
        }, ms),
        cancel: resolve,
      };
      entry.timer.unref();
      this.pending.add(entry);
    });
  }

  /** Runs `task` after `ms` unless the simulator is reset or closed first. */
  schedule(ms: number, task: () => void): { cancel(): void } {
    const entry: Pending = {
      timer: setTimeout(() => {
        this.pending.delete(entry);
        task();
      }, Math.max(0, ms)),
      cancel: () => undefined,
    };
    entry.timer.unref();
    this.pending.add(entry);
    return {
      cancel: () => {
        clearTimeout(entry.timer);
        this.pending.delete(entry);
      },
    };
  }

  cancelAll(): void {
    for (const entry of this.pending) {
      clearTimeout(entry.timer);
      entry.cancel();
    }
    this.pending.clear();
  }
}
