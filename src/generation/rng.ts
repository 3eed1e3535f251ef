/**
 * Seeded pseudo-random numbers for sampling.
 *
 * The generator is MT19937 (Matsumoto & Nishimura 1998, "Mersenne Twister: a 623-dimensionally
 * equidistributed uniform pseudo-random number generator"), bit-exact with C++ `std::mt19937`
 * seeded with a 32-bit value. Uniform doubles follow libstdc++'s
 * `std::generate_canonical<double, 53>` (two 32-bit draws, low word first), which is what
 * llama.cpp's `llama_sampler_dist` uses through `std::uniform_real_distribution<double>(0, 1)`.
 * So the same seed gives the same stream of uniforms as llama.cpp on libstdc++ platforms.
 */
import { randomInt } from 'node:crypto';

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const TWO_POW_32 = 4294967296;
const ONE_MINUS_EPS = 1 - Number.EPSILON / 2; // nextafter(1.0, 0.0)

/** Returns a random 32-bit seed from the OS entropy source (`crypto.randomInt`). */
export function randomSeed(): number {
  // randomInt's upper bound is exclusive and limited to 2^48; two halves give the full 32-bit range.
  return ((randomInt(0x10000) << 16) | randomInt(0x10000)) >>> 0;
}

/** A seeded MT19937 generator producing uint32 values and uniform doubles in [0, 1). */
export class Mt19937 {
  /** The seed this generator was created (or last reseeded) with, as an unsigned 32-bit integer. */
  seed: number;
  private readonly mt = new Uint32Array(N);
  private mti = N;

  /**
   * @param seed unsigned 32-bit seed (taken modulo 2^32); a random seed when absent.
   *   The chosen seed is readable as {@link Mt19937.seed} so a run can be reproduced.
   * @throws RangeError when seed is not a finite integer.
   */
  constructor(seed?: number) {
    this.seed = 0;
    this.reseed(seed ?? randomSeed());
  }

  /**
   * Re-initialises the state as `std::mt19937::seed(s)`.
   * @throws RangeError when seed is not a finite integer.
   */
  reseed(seed: number): void {
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    const s = Number(BigInt.asUintN(32, BigInt(seed)));
    this.seed = s;
    const mt = this.mt;
    mt[0] = s;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      // 1812433253 * prev + i, modulo 2^32, split to stay exact in float64.
      mt[i] = (((((prev & 0xffff0000) >>> 16) * 1812433253) << 16) + (prev & 0x0000ffff) * 1812433253 + i) >>> 0;
    }
    this.mti = N;
  }

  private twist(): void {
    const mt = this.mt;
    for (let k = 0; k < N; k++) {
      const y = (mt[k]! & UPPER_MASK) | (mt[(k + 1) % N]! & LOWER_MASK);
      mt[k] = mt[(k + M) % N]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.mti = 0;
  }

  /** Next raw output, an unsigned 32-bit integer (same sequence as `std::mt19937::operator()`). */
  nextUint32(): number {
    if (this.mti >= N) this.twist();
    let y = this.mt[this.mti++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * Uniform double in [0, 1) from two draws, as libstdc++ `generate_canonical<double, 53>`:
   * (lo + hi·2^32) / 2^64, clamped below 1.
   */
  nextFloat(): number {
    const lo = this.nextUint32();
    const hi = this.nextUint32();
    const r = (lo + hi * TWO_POW_32) / (TWO_POW_32 * TWO_POW_32);
    return r >= 1 ? ONE_MINUS_EPS : r;
  }
}
