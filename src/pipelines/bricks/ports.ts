/**
 * Small helpers for bricks reading their input ports: fetch a port and check its kind, with a
 * typed error naming the brick and port.
 */
import { RequestError } from '../../core/errors.js';
import type { PortKind, PortValue, PortValues } from '../../bricks/brick.js';

/**
 * The value on `port`, which must be of `kind`.
 * @throws RequestError `BRICK_INPUT_MISSING` (absent) or `BRICK_INPUT_KIND` (another kind).
 */
export function takePort<K extends PortKind>(brick: string, inputs: PortValues, port: string, kind: K): Extract<PortValue, { kind: K }> {
  const v = inputs[port];
  if (!v) throw new RequestError('BRICK_INPUT_MISSING', `${brick}: missing input '${port}'`);
  if (v.kind !== kind) throw new RequestError('BRICK_INPUT_KIND', `${brick}: input '${port}' must be ${kind}, got ${v.kind}`);
  return v as Extract<PortValue, { kind: K }>;
}
