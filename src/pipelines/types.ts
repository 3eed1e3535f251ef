/**
 * Pipelines as data (ARCHITECTURE.md principle 1: placement is data, not code). A pipeline file
 * (`pipelines/*.json`) names its inputs, a list of bricks — each with a registered `type`, its
 * input edges and options — its outputs, and a placement (brick → device). The same object drives
 * validation, execution (src/pipelines/runner.ts) and, later, the planner (`synflux plan`).
 *
 * Edges are strings: `"$name"` is the pipeline input `name`; `"brick.port"` is output `port` of
 * the brick named `brick` (brick names contain no '.').
 *
 * Example (pipelines/ocr-qa.json, abridged):
 * ```json
 * { "version": 1, "name": "ocr-qa",
 *   "inputs": { "image": { "kind": "text" }, "prompt": { "kind": "text" } },
 *   "bricks": [
 *     { "name": "image", "type": "image.decode", "inputs": { "path": "$image" } },
 *     { "name": "ocr-det", "type": "ocr.det", "inputs": { "image": "image.image" } },
 *     { "name": "ocr-rec", "type": "ocr.rec", "inputs": { "image": "image.image", "boxes": "ocr-det.boxes" } },
 *     { "name": "lm", "type": "llm.generate", "inputs": { "prompt": "ocr-rec.text" } } ],
 *   "placement": { "ocr-det": "onnx", "ocr-rec": "onnx", "lm": "cpu" },
 *   "outputs": { "answer": "lm.text" } }
 * ```
 */
import type { PortKind } from '../bricks/brick.js';

/** The schema version this code reads. */
export const PIPELINE_VERSION = 1;

/** A declared pipeline input. */
export interface PipelineInputSpec {
  /** Kind of value the caller supplies (`text` for prompts and file paths). */
  readonly kind: PortKind;
  readonly description?: string;
}

/** One brick of a pipeline. */
export interface BrickSpec {
  /** Unique name within the pipeline (letters, digits, `_`, `-`); what placement and `--place` refer to. */
  readonly name: string;
  /** Registered brick type (see src/pipelines/registry.ts), e.g. `ocr.det`. */
  readonly type: string;
  /** Input port → edge (`"$input"` or `"brick.port"`). */
  readonly inputs: Readonly<Record<string, string>>;
  /** Device when the pipeline's placement does not name one (default: the type's first device). */
  readonly device?: string;
  /** Type-specific options (validated by the type). */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** A pipeline definition as read from JSON. */
export interface PipelineSpec {
  readonly version: typeof PIPELINE_VERSION;
  readonly name: string;
  readonly description?: string;
  readonly inputs: Readonly<Record<string, PipelineInputSpec>>;
  readonly bricks: readonly BrickSpec[];
  /** Output name → edge (`"brick.port"` or `"$input"`). */
  readonly outputs: Readonly<Record<string, string>>;
  /** Brick name → device; overrides `BrickSpec.device`, overridden by `--place`. */
  readonly placement?: Readonly<Record<string, string>>;
}

/** A parsed edge. */
export type EdgeRef = { readonly from: 'input'; readonly name: string } | { readonly from: 'brick'; readonly brick: string; readonly port: string };

/** A validated pipeline: the spec, an execution order and the resolved device of every brick. */
export interface ValidatedPipeline {
  readonly spec: PipelineSpec;
  /** Brick names in a topological order (declaration order among independent bricks). */
  readonly order: readonly string[];
  /** Brick name → device after placement and overrides. */
  readonly placement: Readonly<Record<string, string>>;
}
