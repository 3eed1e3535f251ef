#!/usr/bin/env node
// Builds the native CPU kernels (native/*.c) into build/Release/synflux_native.node with the
// system C compiler (`cc`, or $CC). No node-gyp, no Python: only gcc/clang + node are needed.
//
// Per-file instruction-set flags, chosen from the file name:
//   *_avx2.c    -mavx2 -mfma -mf16c
//   *_avx512.c  -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mavx512bf16 (+ the AVX2 flags)
//   *_neon_dotprod.c  -march=armv8.2-a+dotprod (arm64 only)
//   others      none (portable scalar code; sf_dot_neon.c is plain ARMv8.0 NEON on arm64)
// The addon picks a path at run time with __builtin_cpu_supports on x86-64 and getauxval/sysctl
// (dotprod) on arm64, so one binary runs anywhere on its architecture. Elsewhere the SIMD files
// are compiled without flags and their bodies are excluded by the preprocessor (they test
// __AVX2__ / __AVX512F__ / __aarch64__ / __ARM_FEATURE_DOTPROD).
//
// Usage: node scripts/build-native.mjs [--force] [--debug]
// Skips the build when the output is newer than every source, header and this script.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, renameSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arch } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'native');
const outDir = join(root, 'build', 'Release');
const objDir = join(root, 'build', 'obj');
const output = join(outDir, 'synflux_native.node');
const force = process.argv.includes('--force');
const debug = process.argv.includes('--debug');

/** Directory holding node_api.h: next to the running node, else the node-api-headers package. */
function findNodeHeaders() {
  const candidates = [
    process.env.SYNFLUX_NODE_INCLUDE,
    join(dirname(process.execPath), '..', 'include', 'node'),
    join(root, 'node_modules', 'node-api-headers', 'include'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  for (const c of candidates) if (existsSync(join(c, 'node_api.h'))) return c;
  throw new Error(
    `build-native: node_api.h not found (looked in ${candidates.join(', ')}). ` +
      'Install the Node.js headers (e.g. `npm i -D node-api-headers`) or set SYNFLUX_NODE_INCLUDE.',
  );
}

const isX86 = arch() === 'x64' || arch() === 'ia32';
const isArm64 = arch() === 'arm64';
const AVX2 = ['-mavx2', '-mfma', '-mf16c'];
const AVX512 = [...AVX2, '-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512vnni', '-mavx512bf16'];

function flagsFor(file) {
  if (isArm64 && file.endsWith('_neon_dotprod.c')) return ['-march=armv8.2-a+dotprod'];
  if (!isX86) return [];
  if (file.endsWith('_avx512.c')) return AVX512;
  if (file.endsWith('_avx2.c')) return AVX2;
  return [];
}

const sources = existsSync(srcDir) ? readdirSync(srcDir).filter((f) => f.endsWith('.c')).sort() : [];
if (sources.length === 0) throw new Error(`build-native: no C sources in ${srcDir}`);
const inputs = [
  ...readdirSync(srcDir).filter((f) => f.endsWith('.c') || f.endsWith('.h')).map((f) => join(srcDir, f)),
  fileURLToPath(import.meta.url),
];
const newestInput = Math.max(...inputs.map((p) => statSync(p).mtimeMs));
if (!force && existsSync(output) && statSync(output).mtimeMs >= newestInput) {
  console.log(`build-native: ${output} is up to date`);
  process.exit(0);
}

const cc = process.env.CC || 'cc';
const include = findNodeHeaders();
mkdirSync(outDir, { recursive: true });
mkdirSync(objDir, { recursive: true });
const common = [
  debug ? '-O0' : '-O3', '-std=gnu11', '-fPIC', '-pthread', '-fvisibility=hidden', '-ffp-contract=off',
  '-Wall', '-Wextra', '-Wno-unused-parameter', '-Wno-missing-field-initializers',
  '-DNAPI_VERSION=8', `-I${include}`, `-I${srcDir}`,
];
if (debug) common.push('-g');

const objects = [];
for (const f of sources) {
  const obj = join(objDir, f.replace(/\.c$/, '.o'));
  const args = [...common, ...flagsFor(f), '-c', join(srcDir, f), '-o', obj];
  console.log(`build-native: ${cc} ${flagsFor(f).join(' ')} ${f}`);
  execFileSync(cc, args, { stdio: 'inherit' });
  objects.push(obj);
}
const tmp = `${output}.tmp`;
execFileSync(cc, ['-shared', '-pthread', '-o', tmp, ...objects, '-lm'], { stdio: 'inherit' });
renameSync(tmp, output); // atomic: a concurrent loader never sees a half-written addon
console.log(`build-native: wrote ${output}`);
