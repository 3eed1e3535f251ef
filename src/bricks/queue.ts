/**
 * A bounded FIFO between two pipeline stages with backpressure: `put` waits while the queue holds
 * `capacity` items, `take` waits while it is empty. `close()` ends the stream after the queued
 * items; `fail(err)` ends it at once, waking every waiter with `err`.
 */

/** Returned by `take` once a closed queue is drained. */
export const END: unique symbol = Symbol('end');

/** Bounded async queue of T. */
export class BoundedQueue<T> {
  private readonly items: T[] = [];
  private readonly takers: { resolve: (v: T | typeof END) => void; reject: (e: unknown) => void }[] = [];
  private readonly putters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private closed = false;
  private error: unknown = null;
  /** Largest number of items held at once (for backpressure checks). */
  highWater = 0;

  /**
   * @param capacity items held before `put` waits (≥ 1).
   * @throws RangeError for a capacity below 1 or not an integer.
   */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be an integer ≥ 1, got ${capacity}`);
  }

  /** Items queued now. */
  get size(): number {
    return this.items.length;
  }

  /**
   * Adds `v`, waiting while the queue is full.
   * @throws the error given to `fail`, or Error when the queue was closed.
   */
  async put(v: T): Promise<void> {
    for (;;) {
      if (this.error !== null) throw this.error;
      if (this.closed) throw new Error('put on a closed queue');
      const t = this.takers.shift();
      if (t) {
        t.resolve(v);
        return;
      }
      if (this.items.length < this.capacity) {
        this.items.push(v);
        this.highWater = Math.max(this.highWater, this.items.length);
        return;
      }
      await new Promise<void>((resolve, reject) => this.putters.push({ resolve, reject }));
    }
  }

  /**
   * The next item, waiting while empty; END once closed and drained.
   * @throws the error given to `fail`.
   */
  async take(): Promise<T | typeof END> {
    if (this.error !== null) throw this.error;
    if (this.items.length) {
      const v = this.items.shift()!;
      this.putters.shift()?.resolve();
      return v;
    }
    if (this.closed) return END;
    return new Promise<T | typeof END>((resolve, reject) => this.takers.push({ resolve, reject }));
  }

  /** No more puts; takers get END after the queued items. */
  close(): void {
    this.closed = true;
    for (const t of this.takers.splice(0)) t.resolve(END);
    for (const p of this.putters.splice(0)) p.resolve();
  }

  /** Ends the queue with `err`: pending and later puts/takes throw it. */
  fail(err: unknown): void {
    if (this.error !== null) return;
    this.error = err ?? new Error('queue failed');
    this.items.length = 0;
    for (const t of this.takers.splice(0)) t.reject(this.error);
    for (const p of this.putters.splice(0)) p.reject(this.error);
  }
}
