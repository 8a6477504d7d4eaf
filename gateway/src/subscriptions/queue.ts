/**
 * One subscriber's outbox: the hub pushes without ever waiting on the client, and the socket's
 * loop pulls at the client's pace. When the client falls `capacity` events behind, the oldest
 * event is dropped (and reported), so a slow dashboard costs bounded memory and never slows the
 * others.
 */
export class BoundedQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private done = false;

  constructor(
    private readonly capacity: number,
    private readonly onDrop: () => void,
    private readonly onClose: () => void,
  ) {}

  /** Queues `item`; returns false when an older item had to be dropped to make room. */
  push(item: T): boolean {
    if (this.done) return true;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: item, done: false });
      return true;
    }
    let kept = true;
    if (this.items.length >= this.capacity) {
      this.items.shift();
      this.onDrop();
      kept = false;
    }
    this.items.push(item);
    return kept;
  }

  get size(): number {
    return this.items.length;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Ends the iteration (client completed, socket closed, server stopping). */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.items.length = 0;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = null;
    this.onClose();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
