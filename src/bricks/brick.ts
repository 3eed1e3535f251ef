/**
 * Bricks (ARCHITECTURE.md principle 1): a multimodal model is a small chain/DAG of bricks — image
 * preprocessor, vision encoder, projector, language model, OCR detector/recognizer, action head —
 * each with typed ports and placed on one device. This file holds only the shared vocabulary:
 * port values, port specs, cost figures for the planner, and the `Brick` contract. Concrete bricks
 * live beside their models (src/models/vision, src/backends/onnx, src/multimodal, …).
 *
 * Shapes are row-major, outermost first, as in ggml's reversed `ne` order written the numpy way:
 * embeddings `[nTokens, d]`, images `[C, H, W]` (channels-first, already normalized float32).
 */

/** Kinds of values that flow between bricks. */
export type PortKind = 'tokens' | 'embeddings' | 'image' | 'tensor' | 'text' | 'actions';

/** Token ids: int32 `[n]`. */
export interface TokensValue {
  readonly kind: 'tokens';
  readonly data: Int32Array;
}

/** Embeddings to feed a language model at consecutive positions: float32 `[n, d]`. */
export interface EmbeddingsValue {
  readonly kind: 'embeddings';
  readonly data: Float32Array;
  /** `[n, d]`. */
  readonly shape: readonly [number, number];
}

/** A preprocessed image: float32 `[C, H, W]` (channels-first, normalized by the model's mean/std). */
export interface ImageValue {
  readonly kind: 'image';
  readonly data: Float32Array;
  /** `[C, H, W]`. */
  readonly shape: readonly [number, number, number];
}

/** Any other dense tensor (feature maps, probabilities, detector maps). */
export interface TensorValue {
  readonly kind: 'tensor';
  readonly dtype: 'f32' | 'i32' | 'u8';
  readonly data: Float32Array | Int32Array | Uint8Array;
  readonly shape: readonly number[];
}

/** Text (recognized OCR lines, a prompt fragment, a generated answer). */
export interface TextValue {
  readonly kind: 'text';
  readonly text: string;
}

/** A chunk of robot actions: float32 `[horizon, actionDim]`. */
export interface ActionsValue {
  readonly kind: 'actions';
  readonly data: Float32Array;
  /** `[horizon, actionDim]`. */
  readonly shape: readonly [number, number];
}

/** One value on a port. */
export type PortValue = TokensValue | EmbeddingsValue | ImageValue | TensorValue | TextValue | ActionsValue;

/** A named, typed port. `shape` entries may be symbolic (`'n'`, `'d'`) where the size varies. */
export interface PortSpec {
  readonly name: string;
  readonly kind: PortKind;
  readonly shape?: readonly (number | string)[];
}

/**
 * What one run of a brick costs, for the placement planner: arithmetic (FLOPs, one multiply-add
 * = 2 FLOPs), bytes the run must stream (weights + activations read and written), resident memory.
 */
export interface BrickCost {
  /** Floating-point operations of one run (FLOPs). */
  readonly flops: number;
  /** Bytes moved through memory by one run (weights read + activations read/written), bytes. */
  readonly bytesMoved: number;
  /** Resident memory the brick needs on its device (weights + working buffers), bytes. */
  readonly memoryBytes: number;
  /** Bytes of the brick's outputs, i.e. what a cross-device transfer of them costs. */
  readonly outputBytes: number;
  /**
   * Optional detail for the planner (src/bricks/cost-model.ts): the matmuls that make up most of
   * `flops`, so each is priced at the measured GFLOP/s of its dtype and token count.
   */
  readonly matmuls?: readonly MatmulWork[];
  /** Optional: kernel calls (launches) per run, each paying the device's per-call overhead. */
  readonly launches?: number;
  /**
   * Optional: units of work per op class that the planner prices from measured per-unit times
   * (src/bricks/profile-schema.ts: the device's `opNs`, else the host's `hostOps.opNs`), e.g.
   * `{ decodePng: pixels, resize: filter taps, layerNorm: elements, rope: elements }`. Work listed
   * here is not in `flops` (which then counts only the rest, priced by the roofline).
   */
  readonly ops?: OpWork;
  /**
   * Optional, for language-model bricks: the run split into phases (prefill: many tokens per
   * matmul, compute-bound; decode: one token per step, memory-bound). When present, the planner
   * prices the phases and ignores the totals above except `memoryBytes`/`outputBytes`.
   */
  readonly phases?: readonly BrickCostPhase[];
}

/** `count` matmuls `Y[nTok, nOut] = X[nTok, nIn] · W[nOut, nIn]ᵀ` with weights of `dtype` (ggml type name, e.g. `Q4_1`). */
export interface MatmulWork {
  readonly dtype: string;
  readonly nOut: number;
  readonly nIn: number;
  readonly nTok: number;
  readonly count: number;
}

/** Units of work by op class (see BrickCost.ops). */
export type OpWork = Readonly<Record<string, number>>;

/** One phase of a brick run (see BrickCost.phases). */
export interface BrickCostPhase {
  readonly name: 'prefill' | 'decode' | string;
  /** Tokens processed in this phase (prefill: prompt length; decode: generated tokens). */
  readonly tokens: number;
  readonly flops: number;
  readonly bytesMoved: number;
  readonly matmuls?: readonly MatmulWork[];
  readonly launches?: number;
  /** As BrickCost.ops. */
  readonly ops?: OpWork;
}

/** Inputs or outputs of a brick run, by port name. */
export type PortValues = Readonly<Record<string, PortValue>>;

/**
 * A unit of model execution placed on one device.
 *
 * `run` may be asynchronous (ONNX Runtime sessions, workers, GPUs) so that bricks on different
 * devices can overlap; a synchronous CPU brick simply returns a resolved promise.
 */
export interface Brick {
  /** Stable name used by plans and `--place` (e.g. `vision`, `projector`, `lm`, `ocr-det`). */
  readonly name: string;
  /** Device the brick runs on (`cpu`, `wasm`, `webgpu`, `onnx`, …). */
  readonly device: string;
  readonly inputs: readonly PortSpec[];
  readonly outputs: readonly PortSpec[];
  /**
   * Runs the brick once.
   * @throws RequestError when an input port is missing or has the wrong kind/shape.
   */
  run(inputs: PortValues): Promise<Record<string, PortValue>>;
  /** Estimated cost of one run on these inputs (planner input); absent when unknown. */
  cost?(inputs: PortValues): BrickCost;
  /** Releases memory held by the brick (weights, sessions, device buffers). */
  dispose(): void;
}
