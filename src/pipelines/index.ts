/**
 * Pipelines as data: types, validation, the brick-type registry and the sequential runner.
 */
export * from './types.js';
export { validatePipeline, loadPipelineFile, parsePlacement, parseEdge } from './validate.js';
export { brickType, brickTypeNames, registerBrickType, checkOptions, templateFields, type BrickType, type BrickContext } from './registry.js';
export { createPipeline, type CreatePipelineOptions, type LoadedPipeline, type PipelineResult, type PipelineTimings } from './runner.js';
