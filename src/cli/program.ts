/**
 * The commander program: subcommands `run`, `chat`, `inspect`, `bench`, `quantize`. Each action imports its module
 * lazily, so `--help` and `inspect` never load the model code or native kernels.
 */
import { Command } from 'commander';
import type { CliIO } from './io.js';
import { packageVersion } from './model.js';

/** Adds the sampling / length / stop flags shared by `run` and `chat`. */
function generationFlags(c: Command): Command {
  return c
    .option('--max-tokens <n>', 'tokens to generate, -1 = until the context ends (run: 128, chat: -1)')
    .option('--temperature <t>', 'sampling temperature, 0 = greedy (default 0.8)')
    .option('--top-k <k>', 'keep the k most likely tokens, 0 = off (default 40)')
    .option('--top-p <p>', 'nucleus sampling mass in [0, 1], 1 = off (default 0.95)')
    .option('--min-p <p>', 'min-p in [0, 1], 0 = off (default 0.05)')
    .option('--repeat-penalty <r>', 'repetition penalty, 1 = off (default 1)')
    .option('--repeat-last-n <n>', 'tokens the penalties look back over, -1 = context (default 64)')
    .option('--frequency-penalty <f>', 'frequency penalty (default 0)')
    .option('--presence-penalty <f>', 'presence penalty (default 0)')
    .option('--seed <s>', 'RNG seed, -1 = random (default random)')
    .option('--stop <s...>', 'stop string(s); generation ends before them');
}

/** Adds `--model`, `--threads`, `--ctx-size`, `--backend`. */
function modelFlags(c: Command): Command {
  return c
    .option('--model <path>', 'GGUF model (default: $SYNFLUX_MODEL, else SmolLM2-135M-Instruct, fetched on first use)')
    .option('--threads <n>', 'CPU threads (default: the loader\'s)')
    .option('--ctx-size <n>', 'context size in tokens (default: min(4096, training context))')
    .option('--backend <name>', 'compute backend: cpu (native addon, default) or wasm (wasm/synflux.wasm; --threads N runs N-1 workers)');
}

/**
 * Builds the CLI program bound to `io`.
 * Errors thrown by actions propagate out of `parseAsync` (see main.ts for how they are printed).
 */
export function buildProgram(io: CliIO): Command {
  const program = new Command()
    .name('synflux')
    .description('SynFlux: LLM inference in TypeScript')
    .version(packageVersion())
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  generationFlags(modelFlags(program.command('run').description('generate text for one prompt (stdout: the text only)')))
    .option('--prompt <text>', 'the prompt (required for text generation); <__media__> marks where each --image goes')
    .option('--mmproj <path>', 'vision projector GGUF (llama.cpp mmproj, clip.* keys) for image input')
    .option('--image <path...>', 'image file(s) (JPEG/PNG/WebP): placed at <__media__> markers, else before the prompt')
    .option('--pipeline <file>', 'run a pipeline file (e.g. pipelines/ocr-qa.json) with --image/--prompt as its inputs')
    .option('--place <brick=device...>', 'pin bricks to devices: with --pipeline any brick (e.g. ocr-det=onnx,lm=wasm); with --model lm=cpu|wasm, vision=cpu|wasm (--mmproj)')
    .option('--sequential', 'with --pipeline and several --image: run the stream one image at a time (default: pipelined, bricks overlap across images)')
    .option('--stream-depth <n>', 'with --pipeline and several --image: queue depth between pipelined bricks (default 2)')
    .option('--worker <brick...>', 'with --pipeline: host these bricks each in a worker thread, so their compute overlaps the main thread\'s bricks in a pipelined stream (default with several --image: the llm.generate bricks; none: no brick)')
    .option('--chat', 'apply the model\'s chat template (prompt = one user message)')
    .option('--system <text>', 'system message (implies --chat)')
    .option('--json', 'print one JSON object {text, tokens, prompt_tokens, timings} instead of the text')
    .action(async (opts) => {
      const { runCommand } = await import('./run.js');
      await runCommand(opts, io);
    });

  generationFlags(modelFlags(program.command('chat').description('interactive multi-turn chat (/reset, /exit); reads piped stdin line by line')))
    .option('--system <text>', 'system message')
    .option('--verbose', 'print per-turn timings on stderr (default on a terminal)')
    .action(async (opts) => {
      const { chatCommand } = await import('./chat.js');
      await chatCommand(opts, io);
    });

  program
    .command('inspect')
    .description('print architecture, hyperparameters, tokenizer and tensors of a GGUF file')
    .argument('<path>', 'GGUF file')
    .option('--json', 'print JSON')
    .action(async (path: string, opts: { json?: boolean }) => {
      const { inspectCommand } = await import('./inspect.js');
      await inspectCommand(path, opts, io);
    });

  program
    .command('bench')
    .description('measure prefill (pp) and decode (tg) tokens/s, load time and peak RSS')
    .option('--model <path>', 'GGUF model (default: $SYNFLUX_MODEL, else SmolLM2-135M-Instruct)')
    .option('-p <n>', 'prompt tokens for pp (default 512)')
    .option('-n <n>', 'generated tokens for tg (default 128)')
    .option('-t, --threads <n>', 'CPU threads (default 2)')
    .option('--backend <name>', 'compute backend: cpu (default) or wasm')
    .option('--reps <n>', 'repetitions, best reported (default 3)')
    .option('--json', 'print {pp_tok_s, tg_tok_s, load_ms, peak_rss_bytes}')
    .action(async (opts) => {
      const { benchCommand } = await import('./bench.js');
      await benchCommand(opts, io);
    });

  program
    .command('quantize')
    .description('quantize a GGUF like llama-quantize (same per-tensor types, same block bytes)')
    .requiredOption('--model <path>', 'input GGUF')
    .requiredOption('--out <path>', 'output GGUF')
    .requiredOption('--type <type>', 'Q8_0 | Q4_0 | Q4_1 | Q4_K_M | Q5_K_M | Q6_K | F16')
    .option('--allow-requantize', 'allow converting tensors that are already quantized')
    .option('--json', 'print a per-tensor summary as JSON')
    .action(async (opts) => {
      const { quantizeCommand } = await import('./quantize.js');
      await quantizeCommand(opts, io);
    });

  program
    .command('convert')
    .description('convert a TF.js MobileNetV2 classifier (model.json or nsfwjs model.min.js) to a GGUF')
    .argument('<path>', 'TF.js model.json, model.min.js, or a folder holding one')
    .requiredOption('--from <format>', 'source format: tfjs')
    .requiredOption('--out <path>', 'output GGUF')
    .option('--type <type>', 'tensor type: f32 (default) or f16')
    .option('--labels <list|file>', 'class labels: comma-separated, or a file (JSON array / one per line); default: nsfwjs\'s own')
    .option('--name <name>', 'general.name')
    .option('--json', 'print a JSON summary')
    .action(async (path: string, opts) => {
      const { convertCommand } = await import('./convert.js');
      await convertCommand(path, opts, io);
    });

  program
    .command('profile')
    .description('measure device profiles (matmul GFLOP/s per dtype, GB/s, launch overhead, transfers) and store them as JSON')
    .option('--device <name>', 'cpu, wasm, onnx, webgpu, a comma list, or all (default all: webgpu when a Chromium is found)')
    .option('--threads <n>', 'cpu pool threads / onnx intra-op threads (default 1)')
    .option('--out <file>', 'where to write the profile (default: the user cache dir)')
    .option('--power <file>', 'JSON {DEVICE: {idleW, busyW}} merged into the profile')
    .option('--quick', 'one matmul size and shorter timings')
    .option('--json', 'print the profile JSON')
    .action(async (opts) => {
      const { profileCommand } = await import('./profile.js');
      await profileCommand(opts, io);
    });

  program
    .command('plan')
    .description('choose a brick placement from the device profiles; print predicted ms per brick, memory per device, energy per query')
    .option('--model <path>', 'language model GGUF (or fixture:smollm2)')
    .option('--mmproj <path>', 'vision projector GGUF (adds the vision brick)')
    .option('--pipeline <file>', 'pipeline JSON (pipelines/*.json) instead of --model')
    .option('--objective <o>', 'latency (default) or energy')
    .option('--place <list>', 'pin bricks: BRICK=DEVICE,… (e.g. vision=cpu,lm=wasm)')
    .option('--profile <file>', 'device profile JSON (default: the one synflux profile wrote)')
    .option('--calibration <file>', 'measured ms of opaque bricks {BRICK: {DEVICE: ms}} (bench/plan-check.ts writes one)')
    .option('--prompt-tokens <n>', 'text prompt tokens per query (default 64)')
    .option('--gen-tokens <n>', 'generated tokens per query (default: the brick\'s maxTokens, else 32)')
    .option('--image-tiles <n>', 'image tiles per query for --mmproj (default 1)')
    .option('--memory-budget <list>', 'DEVICE=BYTES,… resident-memory budgets')
    .option('--energy-budget <j>', 'energy budget per query, J (latency objective)')
    .option('--json', 'print {placement, predicted_ms, memory_bytes, energy_j, candidates}')
    .action(async (opts) => {
      const { planCommand } = await import('./plan.js');
      await planCommand(opts, io);
    });

  return program;
}
