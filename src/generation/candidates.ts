/**
 * A reusable candidate set for sampling: (token id, logit) pairs over the vocabulary, with the
 * "sorted" flag and partial sorting of llama.cpp's `llama_token_data_array`
 * (src/llama-sampler.cpp). All buffers are sized nVocab once; nothing is allocated per token.
 */

/** Above this k, selection radix-sorts the whole set instead of using a heap. */
const HEAP_LIMIT = 1024;
/** Radix sort digit: 11 bits, 3 passes cover 32-bit keys. */
const RADIX_BITS = 11;
const RADIX = 1 << RADIX_BITS;
const RADIX_MASK = RADIX - 1;
// One float32 / uint32 view of the same 4 bytes, for bit casts.
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/**
 * Candidate tokens of one sampling step. `ids[0..size)` and `logits[0..size)` are the live
 * entries; when `sorted` they are in descending logit order (ties: ascending id).
 */
export class Candidates {
  /** Vocabulary size the buffers are sized for. */
  readonly nVocab: number;
  /** Token ids, int32 [nVocab]; entries [0, size) are live. */
  ids: Int32Array;
  /** Logits, float32 [nVocab]; entries [0, size) are live. */
  logits: Float32Array;
  /** Scratch float32 [nVocab] for per-candidate values (e.g. exp(logit − max) in sampling). */
  readonly scratch: Float32Array;
  /** Number of live candidates. */
  size = 0;
  /** Whether the live entries are in descending logit order. */
  sorted = false;
  // Scratch buffers that receive sorted output; swapped with ids/logits.
  private sIds: Int32Array;
  private sLogits: Float32Array;
  // Binary-heap scratch (positions into ids/logits).
  private readonly heap: Int32Array;
  // Radix-sort scratch for large selections (see sortByKeys); allocated on first use.
  private radix?: { keyA: Uint32Array; keyB: Uint32Array; posA: Int32Array; posB: Int32Array; count: Uint32Array };

  /** @param nVocab vocabulary size (> 0). @throws RangeError when nVocab is not a positive integer. */
  constructor(nVocab: number) {
    if (!Number.isInteger(nVocab) || nVocab <= 0) throw new RangeError(`nVocab must be a positive integer, got ${nVocab}`);
    this.nVocab = nVocab;
    this.ids = new Int32Array(nVocab);
    this.logits = new Float32Array(nVocab);
    this.sIds = new Int32Array(nVocab);
    this.sLogits = new Float32Array(nVocab);
    this.heap = new Int32Array(nVocab);
    this.scratch = new Float32Array(nVocab);
  }

  /**
   * Loads all vocabulary entries from raw logits (float32 [nVocab]), unsorted.
   * @throws RangeError when logits.length differs from nVocab.
   */
  load(logits: Float32Array): void {
    if (logits.length !== this.nVocab) throw new RangeError(`expected ${this.nVocab} logits, got ${logits.length}`);
    this.logits.set(logits);
    const ids = this.ids;
    for (let i = 0; i < this.nVocab; i++) ids[i] = i;
    this.size = this.nVocab;
    this.sorted = false;
  }

  /** Index of the largest live logit (ties: lowest id). @throws RangeError when empty. */
  argmax(): number {
    if (this.size === 0) throw new RangeError('no candidates');
    let best = 0;
    for (let i = 1; i < this.size; i++) {
      const l = this.logits[i]!;
      const b = this.logits[best]!;
      if (l > b || (l === b && this.ids[i]! < this.ids[best]!)) best = i;
    }
    return best;
  }

  /** Largest live logit. @throws RangeError when empty. */
  maxLogit(): number {
    if (this.sorted) {
      if (this.size === 0) throw new RangeError('no candidates');
      return this.logits[0]!;
    }
    return this.logits[this.argmax()]!;
  }

  /**
   * Keeps only the k best live entries (k clamped to [1, size]), in descending order, and marks
   * the set sorted. O(size · log k) with a binary heap; O(k) when already sorted.
   */
  keepTop(k: number): void {
    k = Math.max(1, Math.min(k, this.size));
    if (!this.sorted) this.selectTop(k);
    this.size = k;
    this.sorted = true;
  }

  /** Sorts all live entries in descending order (ties: ascending id). */
  sortAll(): void {
    if (!this.sorted) this.selectTop(this.size);
    this.sorted = true;
  }

  /**
   * Keeps live entries whose logit is ≥ `threshold`, preserving order (stable compaction).
   * Keeps the single best entry when none passes.
   */
  keepAtLeast(threshold: number): void {
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      if (this.logits[i]! >= threshold) {
        this.ids[n] = this.ids[i]!;
        this.logits[n] = this.logits[i]!;
        n++;
      }
    }
    if (n === 0) {
      // Cannot happen for a threshold ≤ max logit; kept for NaN thresholds.
      this.keepTop(1);
      return;
    }
    this.size = n;
  }

  /**
   * Nucleus filter (Holtzman et al. 2019, "The Curious Case of Neural Text Degeneration"), as
   * llama.cpp's `llama_sampler_top_p_apply`: keeps the shortest descending prefix whose softmax
   * probability mass is ≥ p (and at least `minKeep` entries), and marks the set sorted. For large
   * unsorted sets it first tries the best 256 entries before sorting everything.
   * @param p in (0, 1]; p ≥ 1 keeps everything unchanged.
   */
  keepTopP(p: number, minKeep = 1): void {
    if (p >= 1 || this.size === 0) return;
    const max = this.maxLogit();
    let sum = 0;
    for (let i = 0; i < this.size; i++) sum += Math.exp(this.logits[i]! - max);
    const scan = (ids: Int32Array, logits: Float32Array, n: number): number => {
      let cum = 0;
      for (let i = 0; i < n; i++) {
        cum += Math.exp(logits[i]! - max) / sum;
        if (cum >= p && i + 1 >= minKeep) return i + 1;
      }
      return -1;
    };
    if (!this.sorted && this.size > 1024) {
      const k = 256;
      this.selectTop(k, false);
      const n = scan(this.sIds, this.sLogits, k);
      if (n > 0) {
        // Commit the partial selection.
        const ids = this.ids;
        const logits = this.logits;
        this.ids = this.sIds;
        this.logits = this.sLogits;
        this.sIds = ids;
        this.sLogits = logits;
        this.size = n;
        this.sorted = true;
        return;
      }
    }
    this.sortAll();
    const n = scan(this.ids, this.logits, this.size);
    if (n > 0) this.size = n;
  }

  /** Whether entry a ranks strictly worse than entry b (lower logit, or equal logit and higher id). */
  private worse(a: number, b: number): boolean {
    const la = this.logits[a]!;
    const lb = this.logits[b]!;
    return la < lb || (la === lb && this.ids[a]! > this.ids[b]!);
  }

  /**
   * Selects the k best live entries into the scratch buffers in descending order, then (when
   * `commit`) swaps the scratch buffers in.
   */
  private selectTop(k: number, commit = true): void {
    if (k > HEAP_LIMIT) this.sortByKeys(k);
    else this.heapSelect(k);
    if (!commit) return;
    const sIds = this.sIds;
    const sLogits = this.sLogits;
    this.sIds = this.ids;
    this.sLogits = this.logits;
    this.ids = sIds;
    this.logits = sLogits;
    this.size = k;
  }

  /**
   * Large selections: LSD radix sort (3 passes of 11 bits) of the order-preserving uint32 image
   * of each logit, complemented so ascending keys mean descending logits. Radix sort is stable
   * and an unsorted set is always in ascending id order ({@link load} fills ids in order and
   * {@link keepAtLeast} compacts in place), so equal logits end up lowest id first.
   * O(size) with 2048-entry histograms; the scratch arrays are allocated on first use.
   */
  private sortByKeys(k: number): void {
    const n = this.size;
    const r = (this.radix ??= {
      keyA: new Uint32Array(this.nVocab), keyB: new Uint32Array(this.nVocab),
      posA: new Int32Array(this.nVocab), posB: new Int32Array(this.nVocab), count: new Uint32Array(RADIX),
    });
    let keys = r.keyA, pos = r.posA, keys2 = r.keyB, pos2 = r.posB;
    const f = F32;
    const u = U32;
    for (let i = 0; i < n; i++) {
      f[0] = this.logits[i]! + 0; // + 0 folds -0 into +0 so they tie
      const b = u[0]!;
      const ordered = b & 0x80000000 ? ~b : b | 0x80000000; // ascending with the float value
      keys[i] = ~ordered; // descending
      pos[i] = i;
    }
    const count = r.count;
    for (let shift = 0; shift < 33; shift += RADIX_BITS) {
      count.fill(0);
      for (let i = 0; i < n; i++) count[(keys[i]! >>> shift) & RADIX_MASK]!++;
      let sum = 0;
      for (let b = 0; b < RADIX; b++) {
        const c = count[b]!;
        count[b] = sum;
        sum += c;
      }
      for (let i = 0; i < n; i++) {
        const key = keys[i]!;
        const dst = count[(key >>> shift) & RADIX_MASK]!++;
        keys2[dst] = key;
        pos2[dst] = pos[i]!;
      }
      [keys, keys2] = [keys2, keys];
      [pos, pos2] = [pos2, pos];
    }
    for (let j = 0; j < k; j++) {
      const p = pos[j]!;
      this.sIds[j] = this.ids[p]!;
      this.sLogits[j] = this.logits[p]!;
    }
  }

  /** Small selections: a min-heap of size k (root = worst kept) scans all live entries. */
  private heapSelect(k: number): void {
    const heap = this.heap;
    let hs = 0;
    const siftDown = (i: number): void => {
      for (;;) {
        const l = 2 * i + 1;
        if (l >= hs) return;
        const r = l + 1;
        let w = l;
        if (r < hs && this.worse(heap[r]!, heap[l]!)) w = r;
        if (!this.worse(heap[w]!, heap[i]!)) return;
        const t = heap[i]!;
        heap[i] = heap[w]!;
        heap[w] = t;
        i = w;
      }
    };
    for (let i = 0; i < this.size; i++) {
      if (hs < k) {
        // Push and sift up.
        let j = hs++;
        heap[j] = i;
        while (j > 0) {
          const p = (j - 1) >> 1;
          if (!this.worse(heap[j]!, heap[p]!)) break;
          const t = heap[j]!;
          heap[j] = heap[p]!;
          heap[p] = t;
          j = p;
        }
      } else if (this.worse(heap[0]!, i)) {
        heap[0] = i;
        siftDown(0);
      }
    }
    // Pop worst first into the back of the output.
    const sIds = this.sIds;
    const sLogits = this.sLogits;
    for (let out = k - 1; out >= 0; out--) {
      const pos = heap[0]!;
      sIds[out] = this.ids[pos]!;
      sLogits[out] = this.logits[pos]!;
      heap[0] = heap[--hs]!;
      siftDown(0);
    }
  }
}
