/**
 * Worker-thread entry of a worker-hosted brick (src/bricks/worker-brick.ts). `workerData.hosted`
 * says what to host; messages `{id, op: 'init' | 'run', inputs?}` are answered with
 * `{id, ok, outputs?}` or `{id, ok: false, error}`. One brick per worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { PortValue, PortValues } from './brick.js';
import type { HostOptions, MatmulChainSpec } from './matmul-brick.js';
import type { LmBrickSpec } from './lm-brick.js';
import type { VisionBrickSpec } from './vision-host.js';
import type { PipelineBrickSpec } from '../pipelines/worker-host.js';
import { errorReply } from './worker-brick.js';

/**
 * What a worker can host: a matmul chain, a language model or a vision encoder (cpu or wasm), or a
 * registered pipeline brick type on any of its devices (src/pipelines/worker-host.ts).
 */
export type HostedSpec = {
  readonly spec: MatmulChainSpec | LmBrickSpec | VisionBrickSpec | PipelineBrickSpec;
  readonly device: string;
  readonly opts?: HostOptions;
};

interface Hosted {
  run(inputs: PortValues): Promise<Record<string, PortValue>>;
}

async function create(h: HostedSpec): Promise<Hosted> {
  if (h.spec.kind === 'pipeline-brick') {
    const { hostPipelineBrick } = await import('../pipelines/worker-host.js');
    return hostPipelineBrick(h.spec, h.device);
  }
  if (h.device !== 'cpu' && h.device !== 'wasm') throw new Error(`device ${h.device} cannot be worker-hosted (cpu, wasm)`);
  if (h.spec.kind === 'matmul-chain') {
    const { MatmulChainHost } = await import('./matmul-brick.js');
    return MatmulChainHost.create(h.spec, h.device, h.opts);
  }
  if (h.spec.kind === 'vision') {
    const { VisionHost } = await import('./vision-host.js');
    return VisionHost.create(h.spec, h.device, h.opts);
  }
  const { LmHost } = await import('./lm-brick.js');
  return LmHost.create(h.spec, h.device, h.opts);
}

if (parentPort) {
  const port = parentPort;
  let hosted: Promise<Hosted> | null = null;
  port.on('message', async (m: { id: number; op: 'init' | 'run'; inputs?: PortValues }) => {
    try {
      hosted ??= create((workerData as { hosted: HostedSpec }).hosted);
      const h = await hosted;
      if (m.op === 'init') {
        port.postMessage({ id: m.id, ok: true });
        return;
      }
      const outputs = await h.run(m.inputs ?? {});
      port.postMessage({ id: m.id, ok: true, outputs });
    } catch (e) {
      if (m.op === 'init') hosted = null;
      port.postMessage({ id: m.id, ok: false, error: errorReply(e) });
    }
  });
}
