/**
 * A Node `--import` module URL that makes `onnxruntime-node` unresolvable (a module-resolution
 * hook throwing ERR_MODULE_NOT_FOUND for it), so a child process sees a machine without ONNX
 * Runtime: `spawnSync(process.execPath, ['--import', NO_ONNX_RUNTIME, …])`.
 */
const HOOK = 'data:text/javascript,' + encodeURIComponent(
  'export async function resolve(s, c, next) {' +
  '  if (s === "onnxruntime-node") throw Object.assign(new Error("Cannot find package \'onnxruntime-node\'"), { code: "ERR_MODULE_NOT_FOUND" });' +
  '  return next(s, c);' +
  '}');
export const NO_ONNX_RUNTIME = 'data:text/javascript,' + encodeURIComponent(`import { register } from "node:module"; register(${JSON.stringify(HOOK)});`);
