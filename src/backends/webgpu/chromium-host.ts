/**
 * Node-side host for the WebGPU backend where Node itself has no usable WebGPU: launches headless
 * Chromium (Debian's `chromium`) through playwright-core with SwiftShader's WebGPU adapter (or the
 * machine's GPU when Chromium finds one), serves the compiled ESM (dist/) and registered model
 * files from a loopback HTTP server, and opens a page (a secure context: http://127.0.0.1) in which
 * dist/src/backends/webgpu/*.js is imported. Flags: shared/design/REFERENCES.md "WebGPU on machines
 * without a GPU". playwright-core never downloads a browser here: the executable path is explicit.
 */
import { createServer, type Server } from 'node:http';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize, sep } from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import { BackendError } from '../../core/errors.js';

/** Chromium flags that expose SwiftShader's WebGPU adapter headless, without background traffic. */
export const CHROMIUM_WEBGPU_ARGS: readonly string[] = [
  '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader', '--no-sandbox',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
];

/** Chromium executable: $SYNFLUX_CHROMIUM, else the first of /usr/bin/chromium, chromium-browser, google-chrome that exists; null if none. */
export function findChromium(): string | null {
  const c = [process.env.SYNFLUX_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  for (const p of c) if (p && existsSync(p)) return p;
  return null;
}

/** Options of {@link ChromiumWebGPU.launch}. */
export interface ChromiumWebGPUOptions {
  /** Browser executable (default {@link findChromium}). */
  executablePath?: string;
  /** Flags replacing {@link CHROMIUM_WEBGPU_ARGS} (e.g. without the SwiftShader adapter on a GPU machine). */
  args?: readonly string[];
  /** Page console lines are passed here (default: dropped). */
  onConsole?: (line: string) => void;
}

/** Minimal structural view of the playwright-core objects used (it is a dev dependency). */
interface PWPage {
  goto(url: string): Promise<unknown>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  on(ev: 'console', cb: (m: { text(): string }) => void): void;
}
interface PWContext {
  pages(): PWPage[];
  newPage(): Promise<PWPage>;
  close(): Promise<void>;
}

/** A headless Chromium page with WebGPU, serving this package's dist/ and registered files. */
export class ChromiumWebGPU {
  private closed = false;

  private constructor(
    readonly page: PWPage, private readonly ctx: PWContext, private readonly server: Server, readonly origin: string,
    private readonly userDir: string, private readonly files: Map<string, string>,
  ) {}

  /**
   * Starts the server and the browser and opens the page.
   * @throws BackendError `WEBGPU_NO_BROWSER` when no Chromium is installed or playwright-core is
   *   missing, `WEBGPU_BROWSER_FAILED` when it does not start.
   */
  static async launch(opts: ChromiumWebGPUOptions = {}): Promise<ChromiumWebGPU> {
    const exe = opts.executablePath ?? findChromium();
    if (!exe) throw new BackendError('WEBGPU_NO_BROWSER', 'no Chromium found (install Debian\'s `chromium` or set SYNFLUX_CHROMIUM)');
    let pw: { chromium: { launchPersistentContext(dir: string, o: object): Promise<PWContext> } };
    try {
      pw = (await import('playwright-core' as string)) as typeof pw;
    } catch (e) {
      throw new BackendError('WEBGPU_NO_BROWSER', `playwright-core is not installed: ${(e as Error).message}`, { cause: e });
    }
    const root = packageRoot();
    const files = new Map<string, string>();
    const server = createServer((req, res) => {
      const url = decodeURIComponent((req.url ?? '/').split('?')[0]!);
      let path: string | undefined;
      if (url === '/') {
        res.setHeader('content-type', 'text/html');
        res.end('<!doctype html><meta charset="utf-8"><title>synflux webgpu</title>');
        return;
      }
      if (url.startsWith('/files/')) path = files.get(url.slice(7));
      else if (url.startsWith('/dist/')) {
        const p = normalize(join(root, url));
        if (p.startsWith(join(root, 'dist') + sep)) path = p;
      }
      if (!path || !existsSync(path) || !statSync(path).isFile()) {
        res.statusCode = 404;
        res.end('not found');
        return;
      }
      res.setHeader('content-type', path.endsWith('.js') ? 'text/javascript' : 'application/octet-stream');
      res.setHeader('content-length', String(statSync(path).size));
      createReadStream(path).pipe(res);
    });
    await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', () => ok()));
    const addr = server.address();
    const origin = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const userDir = mkdtempSync(join(tmpdir(), 'synflux-chromium-'));
    let ctx: PWContext;
    try {
      ctx = await pw.chromium.launchPersistentContext(userDir, { executablePath: exe, headless: true, args: [...(opts.args ?? CHROMIUM_WEBGPU_ARGS)] });
    } catch (e) {
      server.close();
      rmSync(userDir, { recursive: true, force: true });
      throw new BackendError('WEBGPU_BROWSER_FAILED', `cannot start ${exe}: ${(e as Error).message}`, { cause: e });
    }
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    if (opts.onConsole) page.on('console', (m) => opts.onConsole!(m.text()));
    await page.goto(origin + '/');
    return new ChromiumWebGPU(page, ctx, server, origin, userDir, files);
  }

  /** Serves `path` at `/files/<key>` and returns that URL path. */
  serveFile(key: string, path: string): string {
    this.files.set(key, path);
    return `/files/${encodeURIComponent(key)}`;
  }

  /**
   * Calls `method(...args)` of the page API (./page-api.ts, imported on first use) and returns its
   * result; Float32Array results come back as base64 strings (see {@link fromBase64F32}).
   */
  call<R>(method: string, ...args: unknown[]): Promise<R> {
    return this.evaluate(async ([mod, m, a]) => {
      const api = (await import(mod)).pageApi as Record<string, (...x: unknown[]) => unknown>;
      return (await api[m]!(...a)) as R;
    }, [PAGE_API, method, args] as [string, string, unknown[]]);
  }

  /** Evaluates `fn(arg)` in the page (arguments and results are structured-cloned by playwright). */
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
    if (this.closed) throw new BackendError('WEBGPU_CLOSED', 'the Chromium page is closed');
    return this.page.evaluate(fn, arg);
  }

  /** Closes the browser and the server and removes the temporary profile. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ctx.close().catch(() => undefined);
    await new Promise<void>((ok) => this.server.close(() => ok()));
    rmSync(this.userDir, { recursive: true, force: true });
  }
}

/** URL path of the page API module (compiled src/backends/webgpu/page-api.ts). */
export const PAGE_API = '/dist/src/backends/webgpu/page-api.js';

/** Decodes a base64 string of float32 bytes (page → Node results travel as strings). */
export function fromBase64F32(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}
