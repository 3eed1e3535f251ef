/**
 * A real compute brick for the executor's tests and the plan-check benchmark: a chain of matmuls
 * `x ← x · W_lᵀ` (layer l: float32 `[nTok, nIn_l]` → `[nTok, nOut_l]`) with deterministic
 * pseudo-random weights (xorshift32 from `seed`, scaled by 1/√nIn so magnitudes stay near 1),
 * quantized to each layer's ggml dtype. Runs on `cpu` (native addon) or `wasm` inside a worker
 * thread (src/bricks/worker-brick.ts), or on `onnx` (one generated MatMul session per layer,
 * onnxruntime-node's asynchronous run) on the main thread.
 *
 * Port: one tensor port (default `x`) in and out, float32 `[nTok, d]`.
 */
import { RequestError } from '../core/errors.js';
import { TokenArena } from './arena.js';
import type { Brick, BrickCost, PortValue, PortValues, TensorValue } from './brick.js';
import { weightBytes } from './cost-model.js';
import { prepareMatmul, type MatmulDeviceName, type PreparedMatmul } from './device-matmul.js';
import { randomFloats } from './profile.js';
import type { KernelPath } from '../backends/cpu/native.js';

/** One layer of a matmul chain. */
export interface MatmulLayerSpec {
  readonly nOut: number;
  readonly nIn: number;
  /** ggml weight type name (`F32`, `F16`, `Q8_0`, `Q4_1`, `Q4_K`, …). */
  readonly dtype: string;
  /** Weight seed. */
  readonly seed: number;
}

/** A matmul-chain brick. */
export interface MatmulChainSpec {
  readonly kind: 'matmul-chain';
  readonly name: string;
  /** Tensor port read and written (default `x`). */
  readonly port?: string;
  readonly layers: readonly MatmulLayerSpec[];
}

/** Options of the hosted brick. */
export interface HostOptions {
  /** cpu pool threads / onnx intra-op threads (default 1). */
  threads?: number;
  /** cpu only: force the native kernel path (`scalar` equals wasm bit for bit). */
  kernelPath?: KernelPath | 'auto';
}

/**
 * Cost of one run on `nTok` tokens: matmuls, weights at their stored size, float32 activations.
 * @throws RequestError for an empty chain.
 */
export function matmulChainCost(spec: MatmulChainSpec, nTok: number): BrickCost {
  if (!spec.layers.length) throw new RequestError('BAD_BRICK', `brick ${spec.name} has no layers`);
  let flops = 0, bytes = 0, wBytes = 0, maxAct = 0;
  for (const l of spec.layers) {
    const wb = weightBytes(l.dtype, l.nOut, l.nIn);
    flops += 2 * l.nOut * l.nIn * nTok;
    bytes += wb + nTok * (l.nIn + l.nOut) * 4;
    wBytes += wb;
    maxAct = Math.max(maxAct, l.nIn, l.nOut);
  }
  const last = spec.layers[spec.layers.length - 1]!;
  return {
    flops, bytesMoved: bytes, memoryBytes: wBytes + 2 * nTok * maxAct * 4, outputBytes: nTok * last.nOut * 4,
    matmuls: spec.layers.map((l) => ({ dtype: l.dtype, nOut: l.nOut, nIn: l.nIn, nTok, count: 1 })),
    launches: spec.layers.length,
  };
}

function tensorIn(spec: MatmulChainSpec, inputs: PortValues): { x: Float32Array; nTok: number } {
  const port = spec.port ?? 'x';
  const v = inputs[port];
  const d0 = spec.layers[0]!.nIn;
  if (!v || v.kind !== 'tensor' || v.dtype !== 'f32' || v.shape.length !== 2 || v.shape[1] !== d0) {
    throw new RequestError('BAD_INPUT', `brick ${spec.name}: port ${port} must be an f32 tensor [nTok, ${d0}]`);
  }
  return { x: v.data as Float32Array, nTok: v.shape[0]! };
}

/** The chain's compute on one device, outside any worker (used inside the worker and for onnx). */
export class MatmulChainHost {
  private constructor(private readonly spec: MatmulChainSpec, private readonly mms: PreparedMatmul[], private readonly arena: TokenArena) {}

  /**
   * Prepares every layer's weights on `device`.
   * @throws RequestError for mismatched layer sizes or a dtype the device lacks; BackendError when the device cannot start.
   */
  static async create(spec: MatmulChainSpec, device: MatmulDeviceName, opts: HostOptions = {}): Promise<MatmulChainHost> {
    for (let i = 1; i < spec.layers.length; i++) {
      if (spec.layers[i]!.nIn !== spec.layers[i - 1]!.nOut) throw new RequestError('BAD_BRICK', `brick ${spec.name}: layer ${i} nIn ≠ layer ${i - 1} nOut`);
    }
    if (!spec.layers.length) throw new RequestError('BAD_BRICK', `brick ${spec.name} has no layers`);
    if (device === 'cpu' && opts.kernelPath) (await import('../backends/cpu/native.js')).native().setPath(opts.kernelPath);
    const mms: PreparedMatmul[] = [];
    for (const l of spec.layers) {
      mms.push(await prepareMatmul(device, l.dtype, randomFloats(l.nOut * l.nIn, l.seed, 1 / Math.sqrt(l.nIn)), l.nOut, l.nIn, { threads: opts.threads ?? 1 }));
    }
    const maxAct = Math.max(...spec.layers.flatMap((l) => [l.nIn, l.nOut]));
    return new MatmulChainHost(spec, mms, new TokenArena({ a: maxAct, b: maxAct }));
  }

  /** Activation block allocations so far (token-aware arena; stays 1 while requests fit). */
  get arenaAllocations(): number {
    return this.arena.allocations;
  }

  /**
   * Runs the chain on the port's f32 `[nTok, nIn_0]` tensor; the output `[nTok, nOut_last]` is a
   * fresh copy (arena views are reused).
   * @throws RequestError `BAD_INPUT` when the port is missing or has the wrong kind/width.
   */
  async run(inputs: PortValues): Promise<Record<string, PortValue>> {
    const { x, nTok } = tensorIn(this.spec, inputs);
    const { a, b } = this.arena.acquire(nTok);
    let cur: Float32Array = x;
    const bufs = [a!, b!];
    for (let i = 0; i < this.mms.length; i++) {
      const m = this.mms[i]!;
      const y = bufs[i & 1]!.subarray(0, nTok * m.nOut);
      await m.run(cur, nTok, y);
      cur = y;
    }
    const last = this.spec.layers[this.spec.layers.length - 1]!;
    const out: TensorValue = { kind: 'tensor', dtype: 'f32', data: cur.slice(), shape: [nTok, last.nOut] };
    return { [this.spec.port ?? 'x']: out };
  }

  /** Releases the prepared matmuls (ONNX sessions). */
  async dispose(): Promise<void> {
    for (const m of this.mms) await m.dispose();
  }
}

/**
 * The chain as a Brick on `device`: `cpu`/`wasm` in a worker thread (so runs overlap with other
 * devices and never block the event loop), `onnx` on the main thread (ORT runs asynchronously on
 * its own threads).
 * @throws BackendError when the device cannot start.
 */
export async function createMatmulChainBrick(spec: MatmulChainSpec, device: string, opts: HostOptions = {}): Promise<Brick> {
  const port = spec.port ?? 'x';
  const d0 = spec.layers[0]?.nIn ?? 0;
  const dl = spec.layers[spec.layers.length - 1]?.nOut ?? 0;
  const base = {
    name: spec.name, device,
    inputs: [{ name: port, kind: 'tensor' as const, shape: ['n', d0] }],
    outputs: [{ name: port, kind: 'tensor' as const, shape: ['n', dl] }],
    cost: (inputs: PortValues): BrickCost => matmulChainCost(spec, tensorIn(spec, inputs).nTok),
  };
  if (device === 'onnx') {
    const host = await MatmulChainHost.create(spec, 'onnx', opts);
    return { ...base, run: (inputs) => host.run(inputs), dispose: () => void host.dispose() };
  }
  const { WorkerBrick } = await import('./worker-brick.js');
  return WorkerBrick.start({ ...base, hosted: { spec, device, opts } });
}
