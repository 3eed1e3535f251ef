/**
 * Test doubles for the generation loop ONLY: a byte-level fake tokenizer and a scripted fake
 * CausalLM whose logits are a fixed function of the tokens in its (fake) KV cache. They have no
 * relation to real model numerics; they exist so the loop (prefill/decode bookkeeping, stop
 * strings, UTF-8 streaming, context limits, cache reuse) can be checked deterministically.
 */
import type { CausalLM } from '../../src/models/causal-lm.js';
import type { LLMConfig } from '../../src/models/config.js';
import { TokenType, type Tokenizer } from '../../src/tokenizers/tokenizer.js';
import { RequestError } from '../../src/core/errors.js';

/** Special tokens of the fake vocabulary (ids 0..255 are single bytes). */
export const BOS = 256;
export const EOS = 257;
export const EOT = 258; // <|end|>
export const ASSISTANT = 259; // <|assistant|>
export const USER = 260; // <|user|>
export const SYSTEM = 261; // <|system|>
export const N_VOCAB = 262;
const SPECIAL: Record<number, string> = {
  [BOS]: '<s>', [EOS]: '</s>', [EOT]: '<|end|>', [ASSISTANT]: '<|assistant|>', [USER]: '<|user|>', [SYSTEM]: '<|system|>',
};

/** Byte-level fake tokenizer: every UTF-8 byte is one token; specials parsed when asked. */
export function fakeTokenizer(opts: { addBos?: boolean } = {}): Tokenizer {
  const addBos = opts.addBos ?? true;
  const enc = new TextEncoder();
  const specials = Object.entries(SPECIAL).map(([id, t]) => [Number(id), t] as const);
  return {
    kind: 'bpe', pre: 'fake', vocabSize: N_VOCAB, bos: BOS, eos: EOS, eot: EOT, addBos, addEos: false,
    encode(text, o = {}) {
      const out: number[] = [];
      if ((o.addSpecial ?? true) && addBos) out.push(BOS);
      let i = 0;
      outer: while (i < text.length) {
        if (o.parseSpecial) {
          for (const [id, t] of specials) {
            if (text.startsWith(t, i)) { out.push(id); i += t.length; continue outer; }
          }
        }
        const cp = text.codePointAt(i)!;
        const ch = String.fromCodePoint(cp);
        for (const b of enc.encode(ch)) out.push(b);
        i += ch.length;
      }
      return out;
    },
    decode(ids) {
      const bytes: number[] = [];
      for (const id of Array.from(ids)) if (id < 256) bytes.push(id);
      return new TextDecoder().decode(new Uint8Array(bytes));
    },
    tokenBytes(id, renderSpecial = false) {
      if (id < 256) return new Uint8Array([id]);
      return renderSpecial ? enc.encode(SPECIAL[id]!) : new Uint8Array(0);
    },
    tokenText: (id) => (id < 256 ? String.fromCharCode(id) : SPECIAL[id]!),
    tokenType: (id) => (id < 256 ? TokenType.Byte : TokenType.Control),
    isEog: (id) => id === EOS || id === EOT,
  };
}

/** A fake CausalLM whose next-token logits are `logitsFor(history)`; counts forwarded tokens. */
export class FakeLM implements CausalLM {
  readonly config: LLMConfig;
  readonly tokenizer: Tokenizer;
  readonly nCtx: number;
  /** Token ids in the fake KV cache. */
  readonly history: number[] = [];
  /** Total tokens passed to forward(), and number of forward calls. */
  forwarded = 0;
  calls = 0;
  truncations: number[] = [];
  private readonly out = new Float32Array(N_VOCAB);

  constructor(readonly logitsFor: (history: readonly number[], out: Float32Array) => void, opts: { nCtx?: number; tokenizer?: Tokenizer } = {}) {
    this.nCtx = opts.nCtx ?? 512;
    this.tokenizer = opts.tokenizer ?? fakeTokenizer();
    this.config = { arch: 'fake', name: 'fake', nVocab: N_VOCAB } as LLMConfig;
  }

  get nPast(): number {
    return this.history.length;
  }

  forward(tokens: ArrayLike<number>): Float32Array {
    if (tokens.length === 0) throw new RequestError('BAD_REQUEST', 'empty forward');
    if (this.history.length + tokens.length > this.nCtx) throw new RequestError('CONTEXT_OVERFLOW', 'fake: context full');
    for (const t of Array.from(tokens)) {
      if (t < 0 || t >= N_VOCAB) throw new RequestError('BAD_TOKEN', `fake: bad id ${t}`);
      this.history.push(t);
    }
    this.forwarded += tokens.length;
    this.calls++;
    this.out.fill(0);
    this.logitsFor(this.history, this.out);
    return this.out;
  }

  truncate(n: number): void {
    this.truncations.push(n);
    this.history.length = Math.min(n, this.history.length);
  }

  dispose(): void {}
}

/**
 * A scripted fake: after the last `<|assistant|>` token it emits the bytes of `reply` one by
 * one (logit 10, every other 0), then `end` (EOT by default). Without a marker it emits 'x'.
 */
export function scriptedLM(reply: string | Uint8Array, opts: { nCtx?: number; end?: number; tokenizer?: Tokenizer } = {}): FakeLM {
  const bytes = typeof reply === 'string' ? new TextEncoder().encode(reply) : reply;
  const end = opts.end ?? EOT;
  return new FakeLM((h, out) => {
    const m = h.lastIndexOf(ASSISTANT);
    const k = h.length - 1 - m;
    const next = m < 0 ? 0x78 : k < bytes.length ? bytes[k]! : end;
    out[next] = 10;
  }, opts);
}

/** A fake with a pseudo-random but fixed logit vector per last token (for sampling tests). */
export function noisyLM(opts: { nCtx?: number } = {}): FakeLM {
  return new FakeLM((h, out) => {
    let s = (h[h.length - 1]! * 2654435761) >>> 0;
    for (let i = 0; i < 256; i++) {
      s = (s * 1664525 + 1013904223) >>> 0;
      out[i] = (s / 4294967296) * 3;
    }
    for (let i = 256; i < N_VOCAB; i++) out[i] = -100; // never end
  }, opts);
}
