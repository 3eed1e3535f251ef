/**
 * Fault injection for offloading tests and drills: wraps a brick so that its device "dies" after
 * `k` successful runs — every later run throws BackendError `DEVICE_FAILED`, as a lost GPU, a
 * crashed NPU driver or an out-of-memory accelerator would. The wrapped brick's real compute runs
 * for the first `k` runs; nothing else is simulated.
 */
import { BackendError } from '../core/errors.js';
import type { Brick } from './brick.js';

/**
 * `brick`, failing from its (k+1)-th run on.
 * @param k successful runs before the failure (≥ 0).
 */
export function failAfter(brick: Brick, k: number): Brick {
  let runs = 0;
  return {
    name: brick.name, device: brick.device, inputs: brick.inputs, outputs: brick.outputs,
    ...(brick.cost ? { cost: brick.cost.bind(brick) } : {}),
    async run(inputs) {
      if (runs >= k) throw new BackendError('DEVICE_FAILED', `${brick.device} stopped responding after ${k} runs (injected fault)`);
      runs++;
      return brick.run(inputs);
    },
    dispose: () => brick.dispose(),
  };
}
