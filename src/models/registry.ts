/**
 * Architecture registry: GGUF `general.architecture` string → lazily imported {@link ArchSpec}.
 */
import type { ArchSpec } from './llm/arch.js';
import { UnsupportedArchitectureError } from '../core/errors.js';

const ARCHES: Record<string, () => Promise<ArchSpec>> = {
  llama: async () => (await import('./llm/llama.js')).llama,
  qwen2: async () => (await import('./llm/qwen2.js')).qwen2,
  qwen3: async () => (await import('./llm/qwen3.js')).qwen3,
  gemma3: async () => (await import('./llm/gemma3.js')).gemma3,
};

/** Architecture strings this build can run. */
export function supportedArchitectures(): string[] {
  return Object.keys(ARCHES);
}

/**
 * The spec of an architecture.
 * @throws UnsupportedArchitectureError (code `UNSUPPORTED_ARCH`) for an unknown string.
 */
export async function getArch(arch: string): Promise<ArchSpec> {
  const f = ARCHES[arch];
  if (!f) throw new UnsupportedArchitectureError('UNSUPPORTED_ARCH', `architecture '${arch}' is not supported (supported: ${supportedArchitectures().join(', ')})`);
  return f();
}
