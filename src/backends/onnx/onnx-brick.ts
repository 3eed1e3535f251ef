/**
 * The `onnx` device: a {@link Brick} executed as one opaque op by ONNX Runtime
 * (`onnxruntime-node`), with a chosen list of execution providers. On machines with an NPU/GPU
 * delegate the same brick runs on CoreML / QNN / DirectML / OpenVINO / WebNN by naming that
 * provider first; here the CPU provider is what exists (ARCHITECTURE.md, `backends/onnx`).
 *
 * Ports come from the model's session metadata: one `tensor` port per graph input and output,
 * named as in the graph (e.g. PP-OCRv4's detector: input `x` `[n, 3, h, w]` float32, output
 * `sigmoid_0.tmp_0` `[n, 1, h, w]` float32), with symbolic dimensions kept as strings.
 */
import { existsSync, statSync } from 'node:fs';
import { BackendError, ModelFormatError, RequestError } from '../../core/errors.js';
import type { Brick, PortSpec, PortValue, PortValues, TensorValue } from '../../bricks/brick.js';
import { loadOnnxRuntime, type OrtSession, type OrtTensor, type OrtValueMetadata } from './runtime.js';

/** Options of {@link OnnxBrick.create}. */
export interface OnnxBrickOptions {
  /** Brick name used by plans and `--place` (e.g. `ocr-det`). */
  readonly name: string;
  /** Path of the `.onnx` file. */
  readonly modelPath: string;
  /**
   * ONNX Runtime execution providers in priority order (default `['cpu']`). Names as
   * onnxruntime-node accepts them: `cpu`, `cuda`, `coreml`, `dml`, `webgpu`, `qnn`, `openvino`, …
   */
  readonly executionProviders?: readonly string[];
  /** Intra-op threads of the session (default: ONNX Runtime's, i.e. the physical cores). */
  readonly intraOpNumThreads?: number;
  /** Device label reported on the brick (default `onnx`). */
  readonly device?: string;
}

const ORT_TO_DTYPE: Record<string, TensorValue['dtype'] | undefined> = { float32: 'f32', int32: 'i32', uint8: 'u8' };
const DTYPE_TO_ORT: Record<TensorValue['dtype'], string> = { f32: 'float32', i32: 'int32', u8: 'uint8' };

function portsFrom(names: readonly string[], meta: readonly OrtValueMetadata[] | undefined): PortSpec[] {
  return names.map((name) => {
    const m = meta?.find((x) => x.name === name);
    return m?.shape ? { name, kind: 'tensor' as const, shape: [...m.shape] } : { name, kind: 'tensor' as const };
  });
}

/**
 * An ONNX model as one brick. Create with {@link OnnxBrick.create}; run with float32 / int32 /
 * uint8 {@link TensorValue}s (an {@link ImageValue}-kind value is accepted as float32 `[C,H,W]`
 * only where the graph input has rank 3).
 */
export class OnnxBrick implements Brick {
  readonly name: string;
  readonly device: string;
  readonly inputs: readonly PortSpec[];
  readonly outputs: readonly PortSpec[];
  /** The execution providers the session was created with. */
  readonly executionProviders: readonly string[];
  /** Size of the model file, bytes (the weights a device must hold; a planner input). */
  readonly modelBytes: number;
  private session: OrtSession | undefined;
  private readonly Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensor;

  private constructor(opts: OnnxBrickOptions, session: OrtSession, Tensor: OnnxBrick['Tensor'], eps: readonly string[]) {
    this.name = opts.name;
    this.modelBytes = statSync(opts.modelPath).size;
    this.device = opts.device ?? 'onnx';
    this.session = session;
    this.Tensor = Tensor;
    this.executionProviders = eps;
    this.inputs = portsFrom(session.inputNames, session.inputMetadata);
    this.outputs = portsFrom(session.outputNames, session.outputMetadata);
  }

  /**
   * Loads ONNX Runtime (lazily) and creates a session for `modelPath`.
   * @throws BackendError `ONNX_RUNTIME_MISSING` (onnxruntime-node not installed),
   *   `ONNX_MODEL_NOT_FOUND` (no such file), `ONNX_SESSION_FAILED` (the runtime refused the
   *   options, e.g. an execution provider this build lacks); ModelFormatError `ONNX_BAD_MODEL`
   *   (the file is not a loadable ONNX model); RequestError `BAD_OPTION` (threads < 1, no providers).
   */
  static async create(opts: OnnxBrickOptions): Promise<OnnxBrick> {
    const eps = opts.executionProviders ?? ['cpu'];
    if (eps.length === 0) throw new RequestError('BAD_OPTION', `${opts.name}: executionProviders must not be empty`);
    if (opts.intraOpNumThreads !== undefined && !(Number.isInteger(opts.intraOpNumThreads) && opts.intraOpNumThreads >= 1)) {
      throw new RequestError('BAD_OPTION', `${opts.name}: intraOpNumThreads must be an integer ≥ 1, got ${opts.intraOpNumThreads}`);
    }
    if (!existsSync(opts.modelPath) || !statSync(opts.modelPath).isFile()) {
      throw new BackendError('ONNX_MODEL_NOT_FOUND', `${opts.name}: ONNX model not found: ${opts.modelPath}`);
    }
    const ort = await loadOnnxRuntime();
    let session: OrtSession;
    try {
      session = await ort.InferenceSession.create(opts.modelPath, {
        executionProviders: [...eps],
        ...(opts.intraOpNumThreads !== undefined ? { intraOpNumThreads: opts.intraOpNumThreads, interOpNumThreads: 1 } : {}),
        logSeverityLevel: 4, // fatal only: run failures surface as BackendError with the runtime's message
      });
    } catch (e) {
      const msg = (e as Error)?.message ?? String(e);
      if (/protobuf|parse|invalid model|model_path|Load model|ModelProto|INVALID_PROTOBUF|INVALID_GRAPH/i.test(msg)) {
        throw new ModelFormatError('ONNX_BAD_MODEL', `${opts.name}: ${opts.modelPath} is not a loadable ONNX model: ${msg}`, { cause: e });
      }
      throw new BackendError('ONNX_SESSION_FAILED', `${opts.name}: ONNX Runtime could not create a session (providers ${eps.join(',')}): ${msg}`, { cause: e });
    }
    return new OnnxBrick(opts, session, ort.Tensor, eps);
  }

  /**
   * Runs the graph once.
   * @param inputs one value per graph input, by input name: `tensor` (f32/i32/u8) or `image`
   *   (float32 `[C,H,W]`).
   * @returns one `tensor` per graph output (float32 → f32, int32 → i32, uint8 → u8).
   * @throws RequestError `BRICK_INPUT_MISSING` / `BRICK_INPUT_KIND` / `BRICK_INPUT_SHAPE` (a
   *   port is absent, of another kind, or its shape disagrees with its data length or the
   *   graph's fixed dimensions); BackendError `ONNX_RUN_FAILED` (the runtime failed),
   *   `ONNX_OUTPUT_TYPE` (an output type this brick does not map), `BRICK_DISPOSED`.
   */
  async run(inputs: PortValues): Promise<Record<string, PortValue>> {
    const session = this.session;
    if (!session) throw new BackendError('BRICK_DISPOSED', `${this.name}: brick was disposed`);
    const feeds: Record<string, OrtTensor> = {};
    for (const spec of this.inputs) {
      const v = inputs[spec.name];
      if (!v) throw new RequestError('BRICK_INPUT_MISSING', `${this.name}: missing input '${spec.name}'`);
      let dtype: TensorValue['dtype'];
      let shape: readonly number[];
      let data: TensorValue['data'];
      if (v.kind === 'tensor') ({ dtype, shape, data } = v);
      else if (v.kind === 'image') ({ shape, data } = v), (dtype = 'f32');
      else throw new RequestError('BRICK_INPUT_KIND', `${this.name}: input '${spec.name}' must be a tensor, got ${v.kind}`);
      const n = shape.reduce((a, b) => a * b, 1);
      if (n !== data.length || shape.some((d) => !Number.isInteger(d) || d < 0)) {
        throw new RequestError('BRICK_INPUT_SHAPE', `${this.name}: input '${spec.name}' shape [${shape.join(', ')}] does not match its ${data.length} elements`);
      }
      if (spec.shape) {
        const bad = spec.shape.length !== shape.length || spec.shape.some((d, i) => typeof d === 'number' && d >= 0 && d !== shape[i]);
        if (bad) throw new RequestError('BRICK_INPUT_SHAPE', `${this.name}: input '${spec.name}' has shape [${shape.join(', ')}], the graph expects [${spec.shape.join(', ')}]`);
      }
      feeds[spec.name] = new this.Tensor(DTYPE_TO_ORT[dtype], data, shape);
    }
    let out: Record<string, OrtTensor>;
    try {
      out = await session.run(feeds);
    } catch (e) {
      throw new BackendError('ONNX_RUN_FAILED', `${this.name}: ONNX Runtime run failed: ${(e as Error)?.message ?? e}`, { cause: e });
    }
    const result: Record<string, PortValue> = {};
    for (const name of session.outputNames) {
      const t = out[name]!;
      const dtype = ORT_TO_DTYPE[t.type];
      if (!dtype) throw new BackendError('ONNX_OUTPUT_TYPE', `${this.name}: output '${name}' has type ${t.type}, not float32/int32/uint8`);
      result[name] = { kind: 'tensor', dtype, data: t.data as TensorValue['data'], shape: [...t.dims] };
    }
    return result;
  }

  /** Releases the ONNX Runtime session (idempotent). */
  dispose(): void {
    const s = this.session;
    this.session = undefined;
    if (s) void s.release().catch(() => undefined);
  }
}
