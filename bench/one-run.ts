/**
 * One benchmark measurement in a fresh process (so peak RSS belongs to one engine only):
 * `node dist/bench/one-run.js --engine synflux|synflux-wasm|llamacpp --model PATH -p 512 -n 128 -t 2 [--reps 3]`
 * (`synflux-wasm`: the WASM backend, wasm/synflux.wasm, with t threads = t-1 workers).
 * Prints one JSON line `{engine, threads, load_ms, pp_tok_s, tg_tok_s, peak_rss_bytes}`.
 * pp: prompt of `p` tokens evaluated in one call from an empty cache (llama-bench `pp`);
 * tg: `n` tokens evaluated one at a time from an empty cache (llama-bench `tg`). Best of `reps`.
 */
import { parseArgs } from 'node:util';
import { benchTokens } from '../src/bench/measure.js';

const { values } = parseArgs({
  options: {
    engine: { type: 'string' }, model: { type: 'string' }, p: { type: 'string', short: 'p', default: '512' },
    n: { type: 'string', short: 'n', default: '128' }, t: { type: 'string', short: 't', default: '2' }, reps: { type: 'string', default: '3' },
  },
});
const P = Number(values.p), N = Number(values.n), T = Number(values.t), REPS = Number(values.reps);
const model = values.model!;

async function runSynflux(backend: 'cpu' | 'wasm') {
  const { measureModel } = await import('../src/bench/measure.js');
  const r = await measureModel(model, { p: P, n: N, threads: T, reps: REPS, backend });
  return { load: r.load_ms, pp: r.pp_tok_s, tg: r.tg_tok_s };
}

async function runLlamaCpp() {
  const { getLlama } = await import('node-llama-cpp');
  const t0 = performance.now();
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' as never });
  const m = await llama.loadModel({ modelPath: model });
  const ctx = await m.createContext({ contextSize: Math.max(P, N) + 16, batchSize: Math.max(P, 1), threads: T });
  const load = performance.now() - t0;
  const nVocab = (m.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: readonly string[] } } }).tokenizer?.ggml?.tokens?.length ?? 32000;
  let pp = 0, tg = 0;
  for (let r = 0; r < REPS; r++) {
    let seq = ctx.getSequence();
    const toks = benchTokens(nVocab, P, r + 1);
    const a = performance.now(); await seq.evaluateWithoutGeneratingNewTokens(toks as never); const ppMs = performance.now() - a;
    pp = Math.max(pp, P / (ppMs / 1000));
    seq.dispose();
    seq = ctx.getSequence();
    const g = benchTokens(nVocab, N, r + 7);
    const b = performance.now(); for (const x of g) await seq.evaluateWithoutGeneratingNewTokens([x] as never); const tgMs = performance.now() - b;
    tg = Math.max(tg, N / (tgMs / 1000));
    seq.dispose();
  }
  return { load, pp, tg };
}

const r = values.engine === 'llamacpp' ? await runLlamaCpp() : await runSynflux(values.engine === 'synflux-wasm' ? 'wasm' : 'cpu');
console.log(JSON.stringify({
  engine: values.engine, threads: T, load_ms: Math.round(r.load), pp_tok_s: +r.pp.toFixed(2), tg_tok_s: +r.tg.toFixed(2),
  peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
}));
process.exit(0);
