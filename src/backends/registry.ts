/**
 * Backend registry: name → factory, created lazily and cached (ggml-backend-reg.cpp idea: a
 * registry of backends, each asked for its device). The CPU backend is always registered.
 */
import { BackendError } from '../core/errors.js';
import type { Backend } from './backend.js';
import { CpuBackend } from './cpu/cpu-backend.js';

/** Creates a backend; may throw BackendError when the device is unavailable. */
export type BackendFactory = () => Backend;

const factories = new Map<string, BackendFactory>([['cpu', () => new CpuBackend()]]);
const instances = new Map<string, Backend>();

/** Register (or replace) a backend factory under `name`. */
export function registerBackend(name: string, factory: BackendFactory): void {
  factories.set(name, factory);
  instances.delete(name);
}

/** Names of the registered backends. */
export function listBackends(): string[] {
  return [...factories.keys()];
}

/**
 * The backend registered as `name` (created on first use).
 * @throws BackendError `UNKNOWN_BACKEND` for an unregistered name; the factory's error otherwise.
 */
export function getBackend(name = 'cpu'): Backend {
  const have = instances.get(name);
  if (have) return have;
  const f = factories.get(name);
  if (!f) throw new BackendError('UNKNOWN_BACKEND', `no backend named '${name}' (registered: ${listBackends().join(', ')})`);
  const b = f();
  instances.set(name, b);
  return b;
}
