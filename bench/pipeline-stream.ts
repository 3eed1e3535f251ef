/**
 * Pipeline stream benchmark: runs a pipeline file (default pipelines/ocr-qa.json) over a list of
 * images repeated `--repeat` times, sequential and pipelined, in the same process with the same
 * bricks, and reports per mode the wall time per item and the CPU time of every thread of the
 * process (Linux `/proc/self/task/TID/stat` utime + stime, 10 ms ticks).
 *
 * Why per-thread CPU: on a shared machine wall times swing with other processes' load, while CPU
 * time per thread does not. The busiest thread's CPU time is a lower bound on the pipelined wall
 * time on an idle machine with a core per busy thread (`bound_ms_per_item`); the sum is the
 * sequential work. Bricks that all compute on the main thread (onnxruntime-node's `run`, the native
 * kernels) show up as one busy thread: nothing to overlap; `--workers lm` moves the LM's decode to
 * its own thread.
 *
 * Usage (after `npx tsc -p tsconfig.json`):
 *   node dist/bench/pipeline-stream.js [--pipeline FILE] [--image PATH]… [--repeat N]
 *     [--prompt TEXT] [--threads N] [--max-tokens N] [--workers lm[,BRICK…]|none] [--depth N] [--reps N]
 * Default images: tests/fixtures/images/ocr-notice.png and .cache/ocr-images/{page,imageTextN}.png
 * (scripts/fixtures/ocr-images.mjs), ×2. One warm-up run precedes the timed streams. Prints one
 * JSON line per mode and rep.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../src/core/package-root.js';
import { createPipeline, type PipelineInputs } from '../src/pipelines/runner.js';
import { loadPipelineFile } from '../src/pipelines/validate.js';

/** CPU time per thread of this process, ms (10 ms ticks), by thread id. */
function threadCpuMs(): Map<string, { name: string; ms: number }> {
  const out = new Map<string, { name: string; ms: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const s = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = tid === String(process.pid) ? 'main' : s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      out.set(tid, { name, ms: (Number(f[11]) + Number(f[12])) * 10 });
    } catch {
      /* the thread ended between readdir and read */
    }
  }
  return out;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const root = packageRoot();
  let images = process.argv.flatMap((a, i) => (a === '--image' ? [process.argv[i + 1]!] : []));
  if (images.length === 0) {
    const mod = (await import(pathToFileURL(join(root, 'scripts/fixtures/ocr-images.mjs')).href)) as { ensureOcrImages(): string };
    const dir = mod.ensureOcrImages();
    images = [join(root, 'tests/fixtures/images/ocr-notice.png'), join(dir, 'page.png'), join(dir, 'imageTextN.png')];
  }
  const repeat = Number(arg('--repeat') ?? 2);
  const reps = Number(arg('--reps') ?? 1);
  const depth = Number(arg('--depth') ?? 2);
  const w = arg('--workers') ?? 'lm';
  const workers = w === 'none' ? [] : w.split(',').filter(Boolean);
  const lm: Record<string, unknown> = { threads: Number(arg('--threads') ?? 1) };
  if (arg('--max-tokens') !== undefined) lm.maxTokens = Number(arg('--max-tokens'));
  const p = loadPipelineFile(arg('--pipeline') ?? join(root, 'pipelines/ocr-qa.json'));
  const overrides = Object.fromEntries(p.spec.bricks.filter((b) => b.type === 'llm.generate').map((b) => [b.name, lm]));
  const prompt = arg('--prompt') ?? 'What is this text about?';
  const items: PipelineInputs[] = Array.from({ length: repeat }, () => images).flat().map((img) => ({ image: { kind: 'text', text: img }, prompt: { kind: 'text', text: prompt } }));
  const loaded = await createPipeline(p, { overrides, workers, depth, log: () => {} });
  try {
    await loaded.run(items[0]!);
    for (let r = 0; r < reps; r++) {
      for (const mode of ['sequential', 'pipelined'] as const) {
        const a = threadCpuMs();
        const res = await loaded.runAll(items, { mode, depth });
        const b = threadCpuMs();
        const per = [...b].map(([tid, v]) => ({ name: v.name, ms: v.ms - (a.get(tid)?.ms ?? 0) })).filter((x) => x.ms > 0).sort((x, y) => y.ms - x.ms);
        const cpu = per.reduce((s, x) => s + x.ms, 0);
        console.log(JSON.stringify({
          mode, rep: r, items: items.length, workers, depth,
          wall_ms: Math.round(res.wall_ms), ms_per_item: Math.round(res.ms_per_item),
          cpu_ms: cpu, busiest_threads_ms: per.slice(0, 4).map((x) => `${x.name}:${x.ms}`),
          bound_ms_per_item: Math.round((per[0]?.ms ?? 0) / items.length),
        }));
      }
    }
  } finally {
    loaded.dispose();
  }
}

await main();
