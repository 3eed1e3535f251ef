/**
 * Typed errors thrown by SynFlux. Every error a user can trigger with bad input (a truncated or
 * hostile model file, a wrong shape, an oversize request) is one of these, with a stable `code`
 * so callers can branch on it without parsing messages.
 */

/** Base class of every SynFlux error. `code` is a stable machine-readable identifier. */
export class SynfluxError extends Error {
  /** Stable identifier, e.g. `GGUF_TRUNCATED`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A model file is malformed: wrong magic, truncated, out-of-range offsets, bad metadata. */
export class ModelFormatError extends SynfluxError {}

/** A tensor uses a ggml type this build cannot compute with. */
export class UnsupportedTensorTypeError extends SynfluxError {}

/** The model's architecture string names no registered architecture. */
export class UnsupportedArchitectureError extends SynfluxError {}

/** A tokenizer cannot be built (missing vocabulary, unknown model kind) or cannot encode. */
export class TokenizerError extends SynfluxError {}

/** A tensor has a shape or type other than the one the architecture requires. */
export class ShapeError extends SynfluxError {}

/** A request is invalid or exceeds a limit (context length, max tokens, option ranges). */
export class RequestError extends SynfluxError {}

/** A native kernel or backend failed to load or run. */
export class BackendError extends SynfluxError {}

/**
 * An image cannot be used: `IMAGE_EMPTY` (zero bytes), `IMAGE_TRUNCATED` (the data ends or breaks
 * before the image does), `IMAGE_UNSUPPORTED_FORMAT` (not JPEG/PNG/WebP), `IMAGE_TOO_LARGE`
 * (header dimensions beyond the configured pixel limit, checked before decoding), `IMAGE_BAD`
 * (any other decode failure), `IMAGE_NOT_FOUND` (a path that cannot be read).
 */
export class ImageError extends SynfluxError {}

/** A pipeline definition (pipelines/*.json) is malformed: bad JSON, unknown brick type, dangling edge, cycle, bad placement. */
export class PipelineError extends SynfluxError {}
