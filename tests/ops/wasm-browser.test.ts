/**
 * The WASM worker protocol in a real browser (headless Chromium via playwright-core): a page served
 * with COOP/COEP headers (so it is crossOriginIsolated and has SharedArrayBuffer) instantiates
 * wasm/synflux.wasm on a shared memory, starts two Web Workers from WORKER_SOURCE
 * (src/backends/wasm/threads.ts) and runs a Q4_1 matmul with 3 threads while its main thread only
 * spins (a browser main thread may not Atomics.wait). The result must equal, bit for bit, the same
 * matmul run by the Node backend, and the workers must have joined jobs. A page that is not
 * crossOriginIsolated has no SharedArrayBuffer: the module is instantiated on unshared memory
 * after unshareMemoryImport and still computes the same result single-threaded.
 * Skipped with a message when Chromium or wasm/synflux.wasm is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { findChromium } from '../../src/backends/webgpu/chromium-host.js';
import { WORKER_SOURCE, unshareMemoryImport } from '../../src/backends/wasm/threads.js';
import { wasmAvailable, wasmKernels, wasmModulePath } from '../../src/backends/wasm/index.js';
import { GGMLType } from '../../src/core/ggml-type.js';
import { gaussian, randomBlocks } from './helpers.js';

const skip = !wasmAvailable() ? `${wasmModulePath()} is missing (scripts/build-wasm.sh)` : !findChromium() ? 'no Chromium installed (apt-get install chromium, or set SYNFLUX_CHROMIUM)' : false;

/**
 * Page code (plain JS source, so no bundler helper leaks into it): runs one Q4_1 matmul through the
 * module's exports (≥ 20 times, 5 ms apart); returns the output bytes (base64), worker readiness and joins.
 */
const PAGE_RUN = `async (a) => {
  const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const shared = a.unshared === null;
  const bytes = shared ? new Uint8Array(await (await fetch('/synflux.wasm')).arrayBuffer()) : b64(a.unshared);
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared });
  const module = await WebAssembly.compile(bytes);
  const ex = (await WebAssembly.instantiate(module, { env: { memory } })).exports;
  let ready = 0;
  const msgs = [];
  if (shared) {
    const url = URL.createObjectURL(new Blob([a.worker], { type: 'text/javascript' }));
    for (let id = 0; id < a.threads - 1; id++) {
      const w = new Worker(url);
      w.onmessage = (e) => { if (e.data.type === 'ready') ready++; else msgs.push(JSON.stringify(e.data)); };
      const stack = ex.sf_alloc(256 * 1024) >>> 0;
      w.postMessage({ type: 'start', module, memory, id, stackTop: (stack + 256 * 1024) & ~15 });
    }
    ex.sf_wasm_pool_set_main_wait(0);
    ex.sf_wasm_pool_set_threads(a.threads);
    for (let i = 0; i < 200 && ready < a.threads - 1; i++) await new Promise((r) => setTimeout(r, 25));
  }
  const wq = b64(a.wq), x = new Float32Array(b64(a.x).buffer);
  const pw = ex.sf_alloc(wq.length) >>> 0, px = ex.sf_alloc(x.length * 4) >>> 0, py = ex.sf_alloc(a.nOut * a.nTok * 4) >>> 0;
  new Uint8Array(memory.buffer, pw, wq.length).set(wq);
  new Float32Array(memory.buffer, px, x.length).set(x);
  const joins0 = shared ? ex.sf_wasm_pool_joined() >>> 0 : 0;
  let rc = 0;
  // jobs 5 ms apart, like layers separated by other work (sleeping workers need a moment to wake);
  // at least 20, more (≤ 1000) until a worker has joined one on a loaded machine
  for (let i = 0; i < 20 || (shared && i < 1000 && ex.sf_wasm_pool_joined() >>> 0 === joins0); i++) {
    rc |= ex.sf_wasm_matmul(3, pw, a.nOut, a.nIn, px, a.nTok, py);
    await new Promise((r) => setTimeout(r, 5));
  }
  const joins = shared ? (ex.sf_wasm_pool_joined() >>> 0) - joins0 : 0;
  const y = new Uint8Array(memory.buffer, py, a.nOut * a.nTok * 4).slice();
  let s = '';
  for (let i = 0; i < y.length; i += 0x8000) s += String.fromCharCode(...y.subarray(i, i + 0x8000));
  return { msgs, rc, ready, joins, isolated: globalThis.crossOriginIsolated === true, y: btoa(s) };
}`;

interface PageResult { msgs: string[]; rc: number; ready: number; joins: number; isolated: boolean; y: string }
type Page = { goto(u: string): Promise<unknown>; evaluate<R>(expr: string): Promise<R> };
const run = (page: Page, args: object): Promise<PageResult> => page.evaluate<PageResult>(`(${PAGE_RUN})(${JSON.stringify(args)})`);

test('browser: Web Workers on shared memory (crossOriginIsolated page) and the unshared fallback give the Node result', { skip, timeout: 180_000 }, async (t) => {
  const wasm = readFileSync(wasmModulePath());
  const server: Server = createServer((req, res) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    if (req.url === '/synflux.wasm') res.writeHead(200, { 'content-type': 'application/wasm' }).end(wasm);
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>wasm threads</title>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const pw = (await import('playwright-core' as string)) as { chromium: { launch(o: object): Promise<{ newPage(): Promise<Page>; close(): Promise<void> }> } };
  const browser = await pw.chromium.launch({ executablePath: findChromium()!, headless: true });
  try {
    const nOut = 512, nIn = 576, nTok = 3;
    const wq = randomBlocks(GGMLType.Q4_1, nOut * nIn, 21), x = gaussian(nTok * nIn, 22);
    const ref = new Float32Array(nOut * nTok);
    (await wasmKernels()).matmul(GGMLType.Q4_1, wq, nOut, nIn, x, nTok, ref);
    const args = { worker: WORKER_SOURCE, wq: Buffer.from(wq).toString('base64'), x: Buffer.from(x.buffer).toString('base64'), nOut, nIn, nTok, threads: 3, unshared: null as string | null };
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    const r = await run(page, args);
    t.diagnostic(`isolated ${r.isolated}, workers ready ${r.ready}, worker joins ${r.joins} ${r.msgs.join(' ')}`);
    assert.equal(r.isolated, true);
    assert.equal(r.rc, 0);
    assert.equal(r.ready, 2, 'both Web Workers instantiated the module');
    assert.ok(r.joins > 0, 'workers joined matmul jobs');
    assert.deepEqual(Buffer.from(r.y, 'base64'), Buffer.from(ref.buffer), 'threaded browser matmul = Node');
    const u = await run(page, { ...args, threads: 1, unshared: Buffer.from(unshareMemoryImport(new Uint8Array(wasm))).toString('base64') });
    assert.equal(u.rc, 0);
    assert.deepEqual(Buffer.from(u.y, 'base64'), Buffer.from(ref.buffer), 'unshared single-thread browser matmul = Node');
  } finally {
    await browser.close();
    server.close();
  }
});
