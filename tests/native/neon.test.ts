/**
 * NEON path of the native kernels (native/sf_dot_neon*.c) against the scalar reference
 * (native/sf_dot_scalar.c, which follows ggml's *_generic kernels), bit for bit.
 *
 * This machine is x86-64, so the check runs under emulation: scripts/test-neon.sh cross-compiles
 * tests/native/neon-harness.c with aarch64-linux-gnu-gcc (an ARMv8.0 build and an ARMv8.2+dotprod
 * build) and runs it under qemu-aarch64 on a CPU with SDOT ("max") and one without (Cortex-A53).
 * The harness compares every vec_dot type (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, F32, F16,
 * BF16) on random quantized, raw-byte and biased inputs, and whole matmuls on path NEON vs path
 * scalar (1 and 2 threads), with memcmp; it also checks the run-time dotprod detection and that
 * 'auto' picks NEON. On an aarch64 host the script runs the harness natively, and this file also
 * checks the addon's own path selection.
 *
 * Skipped with a message when the cross compiler or qemu-aarch64 is missing
 * (`apt-get install gcc-aarch64-linux-gnu qemu-user`). No speed is measured here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/package-root.js';
import { native, nativeAvailable } from '../../src/backends/cpu/native.js';

const ROOT = packageRoot();
const onArm = process.arch === 'arm64';

function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

const missing = onArm ? (hasTool('cc') ? [] : ['cc']) : ['aarch64-linux-gnu-gcc', 'qemu-aarch64'].filter((t) => !hasTool(t));
const skip = missing.length
  ? `${missing.join(' and ')} not found: install gcc-aarch64-linux-gnu and qemu-user to run the NEON op test`
  : false;

test('NEON kernels equal the scalar kernels bit for bit (qemu-aarch64 harness)', { skip, timeout: 600_000 }, () => {
  const r = spawnSync('bash', [join(ROOT, 'scripts/test-neon.sh'), join(ROOT, '.cache/neon')], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  assert.equal(r.status, 0, `scripts/test-neon.sh failed (status ${r.status}):\n${out.slice(-6000)}`);
  // every harness run reported comparisons and no mismatch
  const summaries = [...out.matchAll(/neon-harness: (\d+) comparisons, (\d+) mismatches: (OK|FAIL)/g)];
  assert.ok(summaries.length >= (onArm ? 1 : 3), `expected a summary per harness run:\n${out.slice(-3000)}`);
  for (const m of summaries) {
    assert.ok(Number(m[1]) > 5000, `too few comparisons: ${m[0]}`);
    assert.equal(Number(m[2]), 0, m[0]);
  }
  // each weight type was compared in every run
  for (const t of ['Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'Q4_K', 'Q5_K', 'Q6_K', 'F32', 'F16', 'BF16']) {
    const lines = out.split('\n').filter((l) => new RegExp(`^vec_dot ${t} +\\d+ comparisons, 0 mismatches`).test(l));
    assert.equal(lines.length, summaries.length, `vec_dot ${t} missing from a run:\n${out.slice(-3000)}`);
  }
  if (!onArm) {
    assert.match(out, /cpu dotprod: yes; dotprod kernels: compiled, tested; tables checked: 2/);
    assert.match(out, /cpu dotprod: no; dotprod kernels: compiled, not run/);
  }
});

test('the addon exposes the NEON path exactly on arm64', { skip: nativeAvailable() ? false : 'native addon not built' }, () => {
  const k = native();
  const info = k.kernelInfo();
  if (onArm) {
    assert.ok(info.paths.includes('neon'), `paths: ${info.paths.join(', ')}`);
    assert.equal(k.setPath('auto'), 'neon');
    assert.ok(k.cpuFeatures().includes('neon'));
    assert.equal(k.kernelInfo().dot.Q4_K, 'neon');
  } else {
    assert.ok(!info.paths.includes('neon'), `paths: ${info.paths.join(', ')}`);
    assert.throws(() => k.setPath('neon'), (e: Error & { code?: string }) => e.code === 'ERR_SYNFLUX_PATH');
  }
  k.setPath('auto');
});
