/**
 * Pipelines as data: types, validation, the brick-type registry and the runner (on the pipelined executor).
 */
export * from './types.js';
export { validatePipeline, loadPipelineFile, parsePlacement, parseEdge } from './validate.js';
export { brickType, brickTypeNames, registerBrickType, checkOptions, templateFields, type BrickType, type BrickContext } from './registry.js';
export {
  createPipeline,
  type CreatePipelineOptions,
  type LoadedPipeline,
  type PipelineResult,
  type PipelineItemResult,
  type PipelineInputs,
  type PipelineTimings,
  type RecognizedLine,
  type StreamOptions,
} from './runner.js';
