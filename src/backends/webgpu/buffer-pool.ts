/**
 * A pool of GPU buffers bucketed by power-of-two size classes, so scratch activations and
 * readback staging buffers are reused across calls instead of being created per op (creating a
 * GPU buffer costs a driver allocation; WebGPU best practice, https://toji.dev/webgpu-best-practices/buffer-uploads).
 * Weights are not pooled: they are created at their exact size once.
 */
import type { GPUBufferLike, GPUDeviceLike } from './gpu-types.js';

/** Smallest pooled size (bytes). */
const MIN_CLASS = 256;

/** Size class of a request: the next power of two ≥ max(bytes, 256). */
export function sizeClass(bytes: number): number {
  let s = MIN_CLASS;
  while (s < bytes) s *= 2;
  return s;
}

/** Power-of-two bucketed buffer pool for one usage combination. */
export class BufferPool {
  private readonly free = new Map<number, GPUBufferLike[]>();
  private live = 0;
  private pooledBytes = 0;

  /**
   * @param device the device that creates buffers
   * @param usage GPUBufferUsage flags every buffer of this pool gets
   * @param label debug label prefix
   */
  constructor(private readonly device: GPUDeviceLike, readonly usage: number, private readonly label = 'pool') {}

  /** A buffer of at least `bytes` bytes (contents undefined: previous users' data may remain). */
  acquire(bytes: number): GPUBufferLike {
    const cls = sizeClass(bytes);
    const list = this.free.get(cls);
    const b = list?.pop();
    this.live++;
    if (b) {
      this.pooledBytes -= cls;
      return b;
    }
    return this.device.createBuffer({ size: cls, usage: this.usage, label: `${this.label}:${cls}` });
  }

  /** Returns `buf` (obtained from {@link acquire}) to the pool. */
  release(buf: GPUBufferLike): void {
    const cls = buf.size;
    let list = this.free.get(cls);
    if (!list) this.free.set(cls, (list = []));
    list.push(buf);
    this.live--;
    this.pooledBytes += cls;
  }

  /** Buffers handed out and not yet released. */
  get inUse(): number {
    return this.live;
  }

  /** Bytes held idle in the pool. */
  get idleBytes(): number {
    return this.pooledBytes;
  }

  /** Destroys every idle buffer. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooledBytes = 0;
  }
}
