/**
 * Token-aware activation arena (ARCHITECTURE.md principle 3, llama2.c's "preallocate every
 * activation buffer once"): a brick declares its buffers as floats per token; the arena allocates
 * one block sized for the largest token count seen so far and hands out views of it, so requests
 * of up to that many tokens reuse the same memory. It grows (to the next power of two tokens)
 * only when a request is longer than any before.
 *
 * The block comes from an optional {@link ArenaAllocator} (e.g. the WASM backend's `allocF32`, so
 * the block lives in linear memory and kernels use its views in place); {@link TokenArena.dispose}
 * hands it back. Users: the synthetic matmul-chain bricks (matmul-brick.ts) and the ViT encoder
 * (src/models/vision/encoder.ts `visionArena`).
 */
import { RequestError } from '../core/errors.js';

/** Buffers of one request: name → float32 view of `tokens × floatsPerToken[name]`. */
export type ArenaViews = Record<string, Float32Array>;

/**
 * Where an arena's block comes from: `alloc(n)` returns a float32 buffer of at least `n` elements
 * (contents need not be zeroed; the arena uses its first `n` and keeps the returned object itself), `free(a)` releases a buffer from
 * `alloc` (it is not used afterwards). Default: plain Float32Arrays left to the garbage collector.
 */
export interface ArenaAllocator {
  alloc(n: number): Float32Array;
  free?(a: Float32Array): void;
}

/** Token-sized buffer arena. */
export class TokenArena {
  private block: Float32Array = new Float32Array(0);
  /** Whether `block` came from the allocator (and must go back through its `free`). */
  private owned = false;
  private tokenCapacity = 0;
  /** Number of block allocations so far (1 after the first request while sizes stay within capacity). */
  allocations = 0;

  /**
   * @param floatsPerToken float32 elements each named buffer needs per token.
   * @param maxTokens refuse requests above this (default 1 << 20); the capacity never exceeds it,
   *   so an arena whose requests always have the same token count gets exactly that capacity.
   * @param allocator where the block comes from (default: plain Float32Arrays).
   */
  constructor(private readonly floatsPerToken: Readonly<Record<string, number>>, private readonly maxTokens = 1 << 20,
    private readonly allocator?: ArenaAllocator) {
    for (const [k, v] of Object.entries(floatsPerToken)) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`arena buffer ${k}: floats per token must be an integer ≥ 0, got ${v}`);
    }
  }

  /** Tokens the current block holds. */
  get capacity(): number {
    return this.tokenCapacity;
  }

  /** Bytes held by the arena. */
  get bytes(): number {
    return this.block.byteLength;
  }

  /**
   * Views for a request of `tokens` tokens (contents undefined: previous requests' data). Growing
   * releases the old block first: views from earlier calls must not be used after a larger request.
   * @throws RequestError `ARENA_TOO_LARGE` above `maxTokens`, `BAD_TOKENS` for a non-positive count.
   */
  acquire(tokens: number): ArenaViews {
    if (!Number.isInteger(tokens) || tokens < 1) throw new RequestError('BAD_TOKENS', `token count must be an integer ≥ 1, got ${tokens}`);
    if (tokens > this.maxTokens) throw new RequestError('ARENA_TOO_LARGE', `${tokens} tokens exceed the arena limit ${this.maxTokens}`);
    if (tokens > this.tokenCapacity) {
      let cap = 1;
      while (cap < tokens) cap *= 2;
      cap = Math.min(cap, this.maxTokens);
      const perTok = Object.values(this.floatsPerToken).reduce((s, v) => s + v, 0);
      this.release();
      const n = cap * perTok;
      // the allocator's own array is kept (not a subarray): its `free` (and the WASM backend's
      // garbage-collection hook) key on that object's identity
      this.block = this.allocator ? this.allocator.alloc(n) : new Float32Array(n);
      this.owned = this.allocator !== undefined;
      if (this.block.length < n) {
        this.release();
        throw new RangeError(`arena allocator returned fewer floats than the ${n} asked`);
      }
      this.tokenCapacity = cap;
      this.allocations++;
    }
    const out: ArenaViews = {};
    let off = 0;
    for (const [name, per] of Object.entries(this.floatsPerToken)) {
      out[name] = this.block.subarray(off, off + tokens * per);
      off += this.tokenCapacity * per;
    }
    return out;
  }

  /**
   * Releases the block (through the allocator's `free` when it has one); views handed out before
   * must not be used afterwards. The arena stays usable: the next {@link acquire} allocates again.
   */
  dispose(): void {
    this.release();
  }

  /** Drops the block (capacity 0), freeing it through the allocator when it came from there. */
  private release(): void {
    if (this.owned && this.allocator?.free) this.allocator.free(this.block);
    this.block = new Float32Array(0);
    this.owned = false;
    this.tokenCapacity = 0;
  }
}
