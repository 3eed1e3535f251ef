/** Public surface of the generation layer: the loop, chat sessions, samplers, stopping. */
export { generate, generateText, tokenizeRequest, commonPrefixLength } from './generate.js';
export type { GenerateRequest, GenerateEvent, GenerateResult, GenerateTimings, PromptCache, FinishReason } from './generate.js';
export { ChatSession, type ChatTurnOptions } from './chat-session.js';
export { renderChat, CHATML_TEMPLATE, type ChatMessage, type ChatFormatter } from './chat-format.js';
export { Sampler, PenaltyWindow, resolveSamplingOptions, DEFAULT_SAMPLING, argmaxLowestId } from './samplers.js';
export type { SamplingOptions, ResolvedSamplingOptions } from './samplers.js';
export { applyTopK, applyTopP, applyMinP, applyTemperature, sampleDist } from './samplers.js';
export { Candidates } from './candidates.js';
export { Mt19937, randomSeed } from './rng.js';
export { StopStringMatcher, type StopPush } from './stopping.js';
export { Utf8Stream } from './utf8-stream.js';
