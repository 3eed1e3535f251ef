/**
 * The vision encoder + projector (src/models/vision, native kernels) hosted in a worker thread as
 * the `vision` brick, so it runs concurrently with an LM brick on another device. The brick itself
 * is the vision helper's `createVisionBrick` (input `image`: u8 tensor of the encoded file;
 * outputs `embeddings` float32 `[n, nEmbdOut]` with all tiles in LM order, and `grid` int32
 * `[rows, cols]`, `[0, 0]` when not split). On `cpu` the encoder's matmuls run on the native addon
 * (pool of `threads`), on `wasm` on wasm/synflux.wasm (single-threaded) through the kernel provider
 * of src/models/vision/kernels.ts; image decode (sharp) and resize (TypeScript) run in the worker
 * either way.
 */
import { BackendError } from '../core/errors.js';
import type { Brick, PortValue, PortValues } from './brick.js';
import type { HostOptions } from './matmul-brick.js';

/** A vision brick. */
export interface VisionBrickSpec {
  readonly kind: 'vision';
  readonly name: string;
  /** mmproj GGUF (llama.cpp clip format) or a Hugging Face VLM folder. */
  readonly mmproj: string;
}

/** The vision model running inside a worker. */
export class VisionHost {
  private constructor(private readonly brick: Brick) {}

  /** Loads the vision model. @throws BackendError for a device other than cpu or wasm; the loader's errors. */
  static async create(spec: VisionBrickSpec, device: string, opts: HostOptions = {}): Promise<VisionHost> {
    if (device !== 'cpu' && device !== 'wasm') throw new BackendError('BACKEND_UNAVAILABLE', `the vision encoder runs on cpu or wasm (asked: ${device})`);
    const { loadVisionModel, createVisionBrick } = await import('../models/vision/index.js');
    if (device === 'cpu' && opts.kernelPath) (await import('../backends/cpu/native.js')).native().setPath(opts.kernelPath);
    const model = await loadVisionModel(spec.mmproj, { device, ...(device === 'cpu' ? { threads: opts.threads ?? 1 } : {}) });
    return new VisionHost(createVisionBrick(model));
  }

  /** Encodes one image (see the brick's ports above). @throws RequestError/ImageError for bad input. */
  run(inputs: PortValues): Promise<Record<string, PortValue>> {
    return this.brick.run(inputs);
  }
}

/**
 * The vision brick in a worker on `device` (cpu or wasm).
 * @throws BackendError when the worker cannot load the model.
 */
export async function createVisionWorkerBrick(spec: VisionBrickSpec, device: string, opts: HostOptions = {}): Promise<Brick> {
  const { WorkerBrick } = await import('./worker-brick.js');
  return WorkerBrick.start({
    name: spec.name, device,
    inputs: [{ name: 'image', kind: 'tensor', shape: ['n'] }],
    outputs: [{ name: 'embeddings', kind: 'embeddings', shape: ['n', 'd'] }, { name: 'grid', kind: 'tensor', shape: [2] }],
    hosted: { spec, device, opts },
  });
}
