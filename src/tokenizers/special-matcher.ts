/**
 * Aho–Corasick automaton over the special-token texts of a vocabulary: one pass over the input
 * tells which special tokens occur in it, so special-token partitioning only visits those (Gemma 3
 * has ~6,400 control/user-defined tokens; scanning the input once per token would be slow).
 * Algorithm: A. V. Aho, M. J. Corasick, "Efficient string matching", CACM 18(6), 1975.
 */
export class SpecialMatcher {
  /** Per node: UTF-16 code unit → child node. */
  private readonly next: Map<number, number>[] = [new Map()];
  private readonly fail: number[] = [0];
  /** Per node: ids whose text ends exactly here. */
  private readonly ends: number[][] = [[]];
  /** Per node: nearest proper suffix node that ends a pattern (-1: none). */
  private readonly dict: number[] = [-1];

  /**
   * @param patterns `[id, text]` pairs; empty texts are ignored.
   */
  constructor(patterns: Iterable<readonly [number, string]>) {
    for (const [id, text] of patterns) {
      if (text.length === 0) continue;
      let node = 0;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        let child = this.next[node]!.get(c);
        if (child === undefined) {
          child = this.next.length;
          this.next.push(new Map());
          this.fail.push(0);
          this.ends.push([]);
          this.dict.push(-1);
          this.next[node]!.set(c, child);
        }
        node = child;
      }
      this.ends[node]!.push(id);
    }
    // Breadth-first failure and dictionary links.
    const queue: number[] = [];
    for (const child of this.next[0]!.values()) queue.push(child);
    for (let q = 0; q < queue.length; q++) {
      const node = queue[q]!;
      for (const [c, child] of this.next[node]!) {
        let f = this.fail[node]!;
        while (f !== 0 && !this.next[f]!.has(c)) f = this.fail[f]!;
        const target = this.next[f]!.get(c);
        const fc = target !== undefined && target !== child ? target : 0;
        this.fail[child] = fc;
        this.dict[child] = this.ends[fc]!.length > 0 ? fc : this.dict[fc]!;
        queue.push(child);
      }
    }
  }

  /** Ids of every pattern that occurs at least once in `text`. O(|text| + matches). */
  present(text: string): Set<number> {
    const found = new Set<number>();
    const seenNode = new Uint8Array(this.next.length);
    let node = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      for (;;) {
        const child = this.next[node]!.get(c);
        if (child !== undefined) {
          node = child;
          break;
        }
        if (node === 0) break;
        node = this.fail[node]!;
      }
      for (let n = this.ends[node]!.length > 0 ? node : this.dict[node]!; n > 0 && seenNode[n] === 0; n = this.dict[n]!) {
        seenNode[n] = 1;
        for (const id of this.ends[n]!) found.add(id);
      }
    }
    return found;
  }
}
