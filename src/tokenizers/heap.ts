/**
 * A small binary min-heap with a caller-supplied ordering, used as the merge work queue of the BPE
 * and SentencePiece tokenizers (llama.cpp uses `std::priority_queue` for the same purpose).
 */
export class MinHeap<T> {
  private readonly items: T[] = [];

  /** @param less strict ordering: `less(a, b)` is true when `a` must pop before `b`. */
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  /** Number of queued items. */
  get size(): number {
    return this.items.length;
  }

  /** Insert an item. O(log n). */
  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  /** Remove and return the first item in the ordering, or undefined when empty. O(log n). */
  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < n && this.less(a[l]!, a[m]!)) m = l;
        if (r < n && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }

  /** Drop every item. */
  clear(): void {
    this.items.length = 0;
  }
}
