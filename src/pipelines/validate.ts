/**
 * Validation of pipeline definitions ({@link PipelineSpec}): structure, brick types and options,
 * edges (every input port wired to an existing pipeline input or brick output of the same kind,
 * no unknown ports), acyclicity (Kahn's algorithm), outputs, and placement (each brick on a device
 * its type supports). Every problem is a {@link PipelineError} with a stable code and the JSON
 * path of the offending field.
 */
import { readFileSync } from 'node:fs';
import { PipelineError } from '../core/errors.js';
import type { PortKind } from '../bricks/brick.js';
import { brickType, brickTypeNames } from './registry.js';
import { PIPELINE_VERSION, type BrickSpec, type EdgeRef, type PipelineSpec, type ValidatedPipeline } from './types.js';

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const KINDS: readonly PortKind[] = ['tokens', 'embeddings', 'image', 'tensor', 'text', 'actions'];

const fail = (code: string, msg: string): never => {
  throw new PipelineError(code, msg);
};
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses an edge string.
 * @throws PipelineError (`PIPELINE_BAD_REFERENCE`) when it is neither `$input` nor `brick.port`.
 */
export function parseEdge(edge: unknown, where: string): EdgeRef {
  if (typeof edge !== 'string') return fail('PIPELINE_BAD_REFERENCE', `${where}: must be a string "$input" or "brick.port", got ${JSON.stringify(edge)}`);
  if (edge.startsWith('$')) {
    const name = edge.slice(1);
    if (!NAME.test(name)) fail('PIPELINE_BAD_REFERENCE', `${where}: bad input reference ${JSON.stringify(edge)}`);
    return { from: 'input', name };
  }
  const dot = edge.indexOf('.');
  const brick = edge.slice(0, dot), port = edge.slice(dot + 1);
  if (dot <= 0 || !NAME.test(brick) || port === '') fail('PIPELINE_BAD_REFERENCE', `${where}: ${JSON.stringify(edge)} is neither "$input" nor "brick.port"`);
  return { from: 'brick', brick, port };
}

/**
 * Parses `--place` assignments: `brick=device[,brick=device…]` (also repeated flags).
 * @throws PipelineError (`PIPELINE_BAD_PLACEMENT`) on a malformed item.
 */
export function parsePlacement(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items.flatMap((s) => s.split(','))) {
    const t = item.trim();
    if (t === '') continue;
    const m = /^([A-Za-z][A-Za-z0-9_-]*)=([A-Za-z][A-Za-z0-9_:.-]*)$/.exec(t);
    if (!m) fail('PIPELINE_BAD_PLACEMENT', `--place: expected brick=device, got ${JSON.stringify(t)}`);
    out[m![1]!] = m![2]!;
  }
  return out;
}

function checkStructure(raw: unknown): PipelineSpec {
  if (!isObj(raw)) return fail('PIPELINE_BAD_FIELD', 'pipeline: must be a JSON object');
  if (raw.version !== PIPELINE_VERSION) fail('PIPELINE_BAD_VERSION', `version: must be ${PIPELINE_VERSION}, got ${JSON.stringify(raw.version)}`);
  if (typeof raw.name !== 'string' || raw.name === '') fail('PIPELINE_BAD_FIELD', 'name: must be a non-empty string');
  if (raw.description !== undefined && typeof raw.description !== 'string') fail('PIPELINE_BAD_FIELD', 'description: must be a string');
  if (!isObj(raw.inputs)) fail('PIPELINE_BAD_FIELD', 'inputs: must be an object {name: {kind}}');
  for (const [k, v] of Object.entries(raw.inputs as object)) {
    if (!NAME.test(k)) fail('PIPELINE_BAD_FIELD', `inputs.${k}: bad input name`);
    if (!isObj(v) || !KINDS.includes(v.kind as PortKind)) fail('PIPELINE_BAD_FIELD', `inputs.${k}.kind: must be one of ${KINDS.join(', ')}`);
  }
  if (!Array.isArray(raw.bricks) || raw.bricks.length === 0) fail('PIPELINE_BAD_FIELD', 'bricks: must be a non-empty array');
  (raw.bricks as unknown[]).forEach((b, i) => {
    const at = `bricks[${i}]`;
    if (!isObj(b)) return fail('PIPELINE_BAD_FIELD', `${at}: must be an object`);
    if (typeof b.name !== 'string' || !NAME.test(b.name)) fail('PIPELINE_BAD_FIELD', `${at}.name: must match ${NAME} (no dots), got ${JSON.stringify(b.name)}`);
    if (typeof b.type !== 'string') fail('PIPELINE_BAD_FIELD', `${at}.type: must be a string`);
    if (!isObj(b.inputs)) fail('PIPELINE_BAD_FIELD', `${at}.inputs: must be an object {port: edge}`);
    if (b.device !== undefined && (typeof b.device !== 'string' || b.device === '')) fail('PIPELINE_BAD_FIELD', `${at}.device: must be a non-empty string`);
    if (b.options !== undefined && !isObj(b.options)) fail('PIPELINE_BAD_FIELD', `${at}.options: must be an object`);
  });
  if (!isObj(raw.outputs) || Object.keys(raw.outputs).length === 0) fail('PIPELINE_BAD_FIELD', 'outputs: must be a non-empty object {name: edge}');
  if (raw.placement !== undefined) {
    if (!isObj(raw.placement)) fail('PIPELINE_BAD_FIELD', 'placement: must be an object {brick: device}');
    for (const [k, v] of Object.entries(raw.placement as object)) if (typeof v !== 'string' || v === '') fail('PIPELINE_BAD_FIELD', `placement.${k}: must be a device name`);
  }
  return raw as unknown as PipelineSpec;
}

/**
 * Validates a parsed pipeline and resolves its execution order and placement.
 * @param place overrides (`--place`): brick → device, applied after `spec.placement`.
 * @throws PipelineError: `PIPELINE_BAD_FIELD`, `PIPELINE_BAD_VERSION`, `PIPELINE_DUPLICATE_BRICK`,
 *   `PIPELINE_UNKNOWN_TYPE`, `PIPELINE_BAD_OPTION`, `PIPELINE_BAD_PORT` (unknown or unwired
 *   input port), `PIPELINE_BAD_REFERENCE` (edge to a missing input/brick/port),
 *   `PIPELINE_KIND_MISMATCH`, `PIPELINE_CYCLE`, `PIPELINE_BAD_PLACEMENT` (unknown brick or a
 *   device the brick's type does not support).
 */
export function validatePipeline(raw: unknown, place: Readonly<Record<string, string>> = {}): ValidatedPipeline {
  const spec = checkStructure(raw);
  const byName = new Map<string, { spec: BrickSpec; index: number }>();
  spec.bricks.forEach((b, i) => {
    if (byName.has(b.name)) fail('PIPELINE_DUPLICATE_BRICK', `bricks[${i}].name: duplicate brick name ${JSON.stringify(b.name)}`);
    byName.set(b.name, { spec: b, index: i });
  });
  // Types, options and the output ports of every brick.
  const outPorts = new Map<string, Map<string, PortKind>>();
  spec.bricks.forEach((b, i) => {
    const t = brickType(b.type);
    if (!t) return fail('PIPELINE_UNKNOWN_TYPE', `bricks[${i}].type: unknown brick type ${JSON.stringify(b.type)} (known: ${brickTypeNames().join(', ')})`);
    t.validateOptions(b.options ?? {}, `bricks[${i}].options`);
    outPorts.set(b.name, new Map(t.outputs(b.options ?? {}).map((p) => [p.name, p.kind])));
  });
  const kindOf = (ref: EdgeRef, where: string): PortKind => {
    if (ref.from === 'input') {
      const inp = spec.inputs[ref.name];
      if (!inp) return fail('PIPELINE_BAD_REFERENCE', `${where}: no pipeline input named ${JSON.stringify(ref.name)} (declared: ${Object.keys(spec.inputs).join(', ') || 'none'})`);
      return inp.kind;
    }
    const ports = outPorts.get(ref.brick);
    if (!ports) return fail('PIPELINE_BAD_REFERENCE', `${where}: no brick named ${JSON.stringify(ref.brick)}`);
    const k = ports.get(ref.port);
    if (!k) return fail('PIPELINE_BAD_REFERENCE', `${where}: brick ${ref.brick} has no output ${JSON.stringify(ref.port)} (outputs: ${[...ports.keys()].join(', ')})`);
    return k;
  };
  // Edges: every declared input wired, no extra ports, kinds agree.
  const deps = new Map<string, Set<string>>();
  spec.bricks.forEach((b, i) => {
    const t = brickType(b.type)!;
    const ins = t.inputs(b.options ?? {});
    const d = new Set<string>();
    for (const port of Object.keys(b.inputs)) {
      if (!ins.some((p) => p.name === port)) fail('PIPELINE_BAD_PORT', `bricks[${i}].inputs.${port}: ${b.type} has no input ${JSON.stringify(port)} (inputs: ${ins.map((p) => p.name).join(', ')})`);
    }
    for (const p of ins) {
      const where = `bricks[${i}].inputs.${p.name}`;
      if (!(p.name in b.inputs)) fail('PIPELINE_BAD_PORT', `${where}: input port ${JSON.stringify(p.name)} of ${b.type} is not wired`);
      const ref = parseEdge(b.inputs[p.name], where);
      const k = kindOf(ref, where);
      if (k !== p.kind) fail('PIPELINE_KIND_MISMATCH', `${where}: expects ${p.kind}, ${b.inputs[p.name]} gives ${k}`);
      if (ref.from === 'brick') {
        if (ref.brick === b.name) fail('PIPELINE_CYCLE', `${where}: brick ${b.name} feeds itself`);
        d.add(ref.brick);
      }
    }
    deps.set(b.name, d);
  });
  for (const [name, edge] of Object.entries(spec.outputs)) kindOf(parseEdge(edge, `outputs.${name}`), `outputs.${name}`);
  // Topological order (Kahn), stable in declaration order.
  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < spec.bricks.length) {
    const next = spec.bricks.find((b) => !done.has(b.name) && [...deps.get(b.name)!].every((x) => done.has(x)));
    if (!next) {
      const left = spec.bricks.filter((b) => !done.has(b.name)).map((b) => b.name);
      return fail('PIPELINE_CYCLE', `bricks: the edges form a cycle among ${left.join(', ')}`);
    }
    order.push(next.name);
    done.add(next.name);
  }
  // Placement: brick.device < spec.placement < place; each must be a device of the type.
  const placement: Record<string, string> = {};
  for (const [src, map] of [['placement', spec.placement ?? {}], ['--place', place]] as const) {
    for (const brick of Object.keys(map)) if (!byName.has(brick)) fail('PIPELINE_BAD_PLACEMENT', `${src}: no brick named ${JSON.stringify(brick)}`);
  }
  for (const b of spec.bricks) {
    const t = brickType(b.type)!;
    const device = place[b.name] ?? spec.placement?.[b.name] ?? b.device ?? t.devices[0]!;
    if (!t.devices.includes(device)) fail('PIPELINE_BAD_PLACEMENT', `brick ${b.name} (${b.type}) cannot run on ${JSON.stringify(device)} (devices: ${t.devices.join(', ')})`);
    placement[b.name] = device;
  }
  return { spec, order, placement };
}

/**
 * Reads and validates a pipeline file.
 * @throws PipelineError `PIPELINE_NOT_FOUND` (unreadable file), `PIPELINE_BAD_JSON`, and those of
 *   {@link validatePipeline}.
 */
export function loadPipelineFile(path: string, place: Readonly<Record<string, string>> = {}): ValidatedPipeline {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PipelineError('PIPELINE_NOT_FOUND', `cannot read pipeline file ${path}: ${(e as Error).message}`, { cause: e });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new PipelineError('PIPELINE_BAD_JSON', `${path}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  return validatePipeline(raw, place);
}
