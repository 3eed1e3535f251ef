/** Test helper: locate the package root from a test file (works under tsx and from dist/). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Nearest ancestor of `fromUrl` whose package.json is the synflux package. */
export function repoRoot(fromUrl: string): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'synflux') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('synflux package root not found');
    dir = up;
  }
}

/** argv prefix that runs the TypeScript CLI source with tsx: [execPath, tsx cli, src/cli/main.ts]. */
export function cliCommand(root: string): [string, string[]] {
  return [process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'src/cli/main.ts')]];
}
