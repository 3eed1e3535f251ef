/**
 * Compare one of our tokenizers with llama.cpp (node-llama-cpp's prebuilt binary, loaded
 * vocabulary-only) on a corpus: encode with and without special-token parsing and with BOS/EOS,
 * decode with and without special-token rendering, special ids, EOG flags and per-token pieces.
 */
import type { LlamaModel, Token } from 'node-llama-cpp';
import type { Tokenizer } from '../../src/tokenizers/index.js';

let llamaPromise: Promise<import('node-llama-cpp').Llama> | undefined;

/** Load a GGUF vocabulary in llama.cpp (CPU, prebuilt binary, no weights). */
export async function loadLlamaVocab(path: string): Promise<LlamaModel> {
  llamaPromise ??= import('node-llama-cpp').then(({ getLlama }) => getLlama({ gpu: false, build: 'never', logLevel: 'fatal' } as Parameters<typeof getLlama>[0] & object));
  const llama = await llamaPromise;
  return llama.loadModel({ modelPath: path, vocabOnly: true });
}

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const show = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);

/** Counts and first differences of a parity run. */
export interface ParityReport {
  checks: number;
  failures: string[];
}

/** Encode/decode parity on `texts`; at most `maxFailures` differences are described. */
export function compareOnCorpus(ours: Tokenizer, ref: LlamaModel, texts: readonly string[], maxFailures = 20): ParityReport {
  const failures: string[] = [];
  let checks = 0;
  const fail = (msg: string) => {
    if (failures.length < maxFailures) failures.push(msg);
    else if (failures.length === maxFailures) failures.push('…');
  };
  const bos = ref.tokens.shouldPrependBosToken && ref.tokens.bos !== null ? [ref.tokens.bos] : [];
  const eos = ref.tokens.shouldAppendEosToken && ref.tokens.eos !== null ? [ref.tokens.eos] : [];
  for (const text of texts) {
    const refPlain = Array.from(ref.tokenize(text, false));
    const refSpecial = Array.from(ref.tokenize(text, true));
    const plain = ours.encode(text, { addSpecial: false, parseSpecial: false });
    const special = ours.encode(text, { addSpecial: false, parseSpecial: true });
    const withBos = ours.encode(text);
    checks += 3;
    if (!same(plain, refPlain)) fail(`encode ${show(text)}: [${plain.join(' ')}] vs llama.cpp [${refPlain.join(' ')}]`);
    if (!same(special, refSpecial)) fail(`encode+parseSpecial ${show(text)}: [${special.join(' ')}] vs llama.cpp [${refSpecial.join(' ')}]`);
    const refWithBos = [...bos, ...refPlain, ...eos];
    if (!same(withBos, refWithBos)) fail(`encode+addSpecial ${show(text)}: [${withBos.join(' ')}] vs llama.cpp [${refWithBos.join(' ')}]`);
    for (const ids of [refSpecial, refWithBos]) {
      for (const renderSpecial of [false, true]) {
        checks++;
        const got = ours.decode(ids, { renderSpecial });
        const want = ref.detokenize(ids as Token[], renderSpecial);
        if (got !== want) fail(`decode(render=${renderSpecial}) [${ids.join(' ')}]: ${show(got)} vs llama.cpp ${show(want)}`);
      }
    }
  }
  return { checks, failures };
}

/** Special ids, add-BOS/EOS flags and EOG flags of every id. */
export function compareVocabFacts(ours: Tokenizer, ref: LlamaModel): string[] {
  const out: string[] = [];
  const t = ref.tokens;
  const eq = (what: string, a: unknown, b: unknown) => {
    if (a !== b) out.push(`${what}: ours ${String(a)} vs llama.cpp ${String(b)}`);
  };
  eq('bos', ours.bos, t.bos ?? -1);
  eq('eos', ours.eos, t.eos ?? -1);
  // llama.cpp picks its EOT among several candidate texts in hash-map order (platform dependent);
  // we only require ours to be one of llama.cpp's end-of-generation tokens when it has one.
  if ((t.eot ?? -1) >= 0 && ours.eot !== t.eot && !ref.isEogToken(ours.eot as Token)) out.push(`eot: ours ${ours.eot} is not EOG in llama.cpp`);
  if ((t.eot ?? -1) < 0 && ours.eot >= 0) out.push(`eot: ours ${ours.eot}, llama.cpp none`);
  eq('addBos', ours.addBos, t.shouldPrependBosToken);
  eq('addEos', ours.addEos, t.shouldAppendEosToken);
  const n = ours.vocabSize;
  let eogDiff = 0;
  for (let id = 0; id < n; id++) {
    if (ours.isEog(id) !== ref.isEogToken(id as Token)) {
      if (eogDiff++ < 5) out.push(`isEog(${id}) ${ours.tokenText(id)}: ours ${ours.isEog(id)}`);
    }
  }
  return out;
}

/** Per-token pieces: decode([id]) against llama.cpp for every `stride`-th id plus the given ids. */
export function comparePieces(ours: Tokenizer, ref: LlamaModel, stride: number, extra: readonly number[] = []): string[] {
  const out: string[] = [];
  const ids = new Set<number>(extra);
  for (let id = 0; id < ours.vocabSize; id += stride) ids.add(id);
  for (const id of ids) {
    for (const special of [false, true]) {
      const got = ours.decode([id], { renderSpecial: special });
      const want = ref.detokenize([id as Token], special);
      if (got !== want && out.length < 10) out.push(`piece ${id} (${JSON.stringify(ours.tokenText(id))}, special=${special}): ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
    }
  }
  return out;
}
