/**
 * SynFlux public API.
 *
 * ```ts
 * import { loadModel, generate } from 'synflux';
 * const model = await loadModel('SmolLM2-135M-Instruct.Q4_1.gguf', { threads: 2 });
 * for await (const ev of generate(model, { prompt: 'Hello', chat: true, maxTokens: 64 })) {
 *   if (ev.type === 'token') process.stdout.write(ev.text);
 * }
 * ```
 */
export { loadModel, type LoadOptions, type LoadedModel } from './models/load.js';
export type { CausalLM, ForwardOptions } from './models/causal-lm.js';
export type { LLMConfig } from './models/config.js';
export { supportedArchitectures } from './models/registry.js';
export { generate, generateText } from './generation/generate.js';
export type { Tokenizer } from './tokenizers/tokenizer.js';
export { tokenizerFromGGUF, tokenizerFromHF } from './tokenizers/index.js';
export { applyChatTemplate } from './tokenizers/chat-template.js';
export { openGGUF, parseGGUF, GGUFFile } from './formats/gguf/reader.js';
export { writeGGUF } from './formats/gguf/writer.js';
export * from './core/errors.js';
export { GGMLType } from './core/ggml-type.js';
export { OnnxBrick, type OnnxBrickOptions } from './backends/onnx/onnx-brick.js';
export { OcrDetector, OcrRecognizer, OcrAngleClassifier, readText, type OcrLine } from './models/ocr/index.js';
export { loadPipelineFile, validatePipeline, parsePlacement, createPipeline, registerBrickType } from './pipelines/index.js';
export type { PipelineSpec, BrickSpec, ValidatedPipeline, LoadedPipeline, PipelineResult, BrickType } from './pipelines/index.js';
