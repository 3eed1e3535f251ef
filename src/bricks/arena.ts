/**
 * Token-aware activation arena (ARCHITECTURE.md principle 3, llama2.c's "preallocate every
 * activation buffer once"): a brick declares its buffers as floats per token; the arena allocates
 * one block sized for the largest token count seen so far and hands out views of it, so requests
 * of up to that many tokens reuse the same memory. It grows (to the next power of two tokens)
 * only when a request is longer than any before.
 */
import { RequestError } from '../core/errors.js';

/** Buffers of one request: name → float32 view of `tokens × floatsPerToken[name]`. */
export type ArenaViews = Record<string, Float32Array>;

/** Token-sized buffer arena. */
export class TokenArena {
  private block = new Float32Array(0);
  private tokenCapacity = 0;
  /** Number of block allocations so far (1 after the first request while sizes stay within capacity). */
  allocations = 0;

  /**
   * @param floatsPerToken float32 elements each named buffer needs per token.
   * @param maxTokens refuse requests above this (default 1 << 20).
   */
  constructor(private readonly floatsPerToken: Readonly<Record<string, number>>, private readonly maxTokens = 1 << 20) {
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
   * Views for a request of `tokens` tokens (contents undefined: previous requests' data).
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
      this.block = new Float32Array(cap * perTok);
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
}
