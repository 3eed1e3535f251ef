// The pipeline runner on the brick executor (src/pipelines/runner.ts → src/bricks/executor.ts),
// with small brick types registered through registerBrickType (no model needed):
// - edge resolution: a DAG with fan-out, fan-in and a pipeline input used deep in the graph gives
//   the values of a direct recursive evaluation of the file's edges (the semantics of the former
//   sequential runner), and each brick sees exactly the values on its own edges;
// - a pipelined stream yields the sequential stream's outputs, in input order;
// - overlap, shown by event order (never by timing thresholds): pipelined, brick `a` starts item
//   t+1 before brick `b` has finished item t; sequential, never;
// - backpressure: queue high-water ≤ depth, and the input is never read more than
//   stages + (stages + 1)·depth items ahead of the consumer;
// - offloading: a brick whose device throws BackendError mid-stream moves to the registry's next
//   device (one `re-planned` log line) and the stream completes with the same outputs; a device
//   missing at creation is re-planned before the first item; a brick with no other device is the
//   factory's own typed error;
// - a RequestError from a brick ends the stream with that error; the pipeline stays usable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendError, RequestError } from '../../src/core/errors.js';
import type { Brick, PortValue, PortValues } from '../../src/bricks/brick.js';
import { registerBrickType, checkOptions } from '../../src/pipelines/registry.js';
import { createPipeline, type PipelineInputs, type PipelineItemResult } from '../../src/pipelines/runner.js';
import { validatePipeline } from '../../src/pipelines/validate.js';
import type { PipelineSpec } from '../../src/pipelines/types.js';

/** Event log of every brick run: `start NAME ARG` / `end NAME ARG`. */
const events: string[] = [];
/** Devices whose runs throw BackendError after `budget` more runs (simulated device loss). */
const dying = new Map<string, number>();

const txt = (text: string): PortValue => ({ kind: 'text', text });
const textOf = (v: PortValue | undefined): string => {
  assert.ok(v && v.kind === 'text', `expected a text value, got ${JSON.stringify(v)}`);
  return v.text;
};

/** The function each test brick computes: `tag(in1,in2,…)` over its ports in declared order. */
const apply = (tag: string, args: readonly string[]): string => `${tag}(${args.join(',')})`;

class TestBrick implements Brick {
  readonly outputs = [{ name: 'out', kind: 'text' as const }];
  constructor(readonly name: string, readonly device: string, readonly inputs: readonly { name: string; kind: 'text' }[], private readonly tag: string, private readonly delayMs: number) {}

  async run(values: PortValues): Promise<Record<string, PortValue>> {
    // The brick must see its own ports and nothing else (no other bricks' values, no `$` keys).
    assert.deepEqual(Object.keys(values).sort(), this.inputs.map((p) => p.name).sort(), `${this.name}: inputs`);
    const args = this.inputs.map((p) => textOf(values[p.name]));
    if (args.some((a) => a.includes('bad'))) throw new RequestError('TEST_BAD_ITEM', `${this.name}: bad item ${args.join(',')}`);
    const left = dying.get(this.device);
    if (left !== undefined) {
      if (left <= 0) throw new BackendError('TEST_DEVICE_LOST', `${this.device} stopped answering`);
      dying.set(this.device, left - 1);
    }
    events.push(`start ${this.name} ${args[0]}`);
    await new Promise((r) => setTimeout(r, this.delayMs));
    events.push(`end ${this.name} ${args[0]}`);
    return { out: txt(apply(this.tag, args)) };
  }

  dispose(): void {}
}

registerBrickType({
  type: 'test.fn',
  description: 'test brick: out = tag(inputs…) after a timer',
  devices: ['devA', 'devB', 'devC'],
  inputs: (o) => ((o.ports as string[] | undefined) ?? ['x']).map((name) => ({ name, kind: 'text' as const })),
  outputs: () => [{ name: 'out', kind: 'text' }],
  validateOptions: (o, w) => checkOptions(o, w, { ports: { kind: 'string[]' }, tag: { kind: 'string' }, delayMs: { kind: 'integer', min: 0 } }),
  create: async (ctx) => {
    if (ctx.device === 'devC' && ctx.options.tag === 'needs-devC') throw new BackendError('TEST_NO_DEVICE', 'devC is not installed');
    const ports = ((ctx.options.ports as string[] | undefined) ?? ['x']).map((name) => ({ name, kind: 'text' as const }));
    return new TestBrick(ctx.name, ctx.device, ports, (ctx.options.tag as string | undefined) ?? ctx.name, (ctx.options.delayMs as number | undefined) ?? 0);
  },
});

registerBrickType({
  type: 'test.only-c',
  description: 'test brick that exists on devC only, whose creation fails',
  devices: ['devC'],
  inputs: () => [{ name: 'x', kind: 'text' }],
  outputs: () => [{ name: 'out', kind: 'text' }],
  validateOptions: () => {},
  create: async () => {
    throw new BackendError('TEST_NO_DEVICE', 'devC is not installed');
  },
});

/** A DAG: fan-out of `a`, fan-in at `d`, pipeline input `$q` used by the last brick. */
const DAG: PipelineSpec = {
  version: 1,
  name: 'dag',
  inputs: { x: { kind: 'text' }, q: { kind: 'text' } },
  bricks: [
    { name: 'd', type: 'test.fn', inputs: { l: 'b.out', r: 'c.out', q: '$q' }, options: { ports: ['l', 'r', 'q'], tag: 'D' } },
    { name: 'a', type: 'test.fn', inputs: { x: '$x' }, options: { tag: 'A' } },
    { name: 'b', type: 'test.fn', inputs: { x: 'a.out' }, options: { tag: 'B', delayMs: 1 } },
    { name: 'c', type: 'test.fn', inputs: { y: 'a.out', z: '$x' }, options: { ports: ['y', 'z'], tag: 'C' } },
  ],
  placement: { a: 'devA', b: 'devB', c: 'devA', d: 'devB' },
  outputs: { result: 'd.out', left: 'b.out', echo: '$q' },
};

/** Direct recursive evaluation of a spec's edges (the reference semantics). */
function reference(spec: PipelineSpec, inputs: Record<string, string>): Record<string, string> {
  const value = (edge: string): string => {
    if (edge.startsWith('$')) return inputs[edge.slice(1)]!;
    const [brick] = edge.split('.');
    const b = spec.bricks.find((x) => x.name === brick)!;
    const o = b.options as { ports?: string[]; tag?: string };
    return apply(o.tag ?? b.name, (o.ports ?? ['x']).map((p) => value(b.inputs[p]!)));
  };
  return Object.fromEntries(Object.entries(spec.outputs).map(([k, e]) => [k, value(e)]));
}

const texts = (r: { outputs: Readonly<Record<string, PortValue>> }): Record<string, string> =>
  Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, textOf(v)]));

async function collect(it: AsyncIterable<PipelineItemResult>): Promise<PipelineItemResult[]> {
  const out: PipelineItemResult[] = [];
  for await (const r of it) out.push(r);
  return out;
}

const items = (n: number, prefix = 'i'): PipelineInputs[] => Array.from({ length: n }, (_, i) => ({ x: txt(`${prefix}${i}`), q: txt(`q${i}`) }));

test('edges resolve as the file says: run() equals the direct evaluation; per-brick timings in execution order', async () => {
  const p = validatePipeline(DAG);
  assert.deepEqual(p.order, ['a', 'b', 'c', 'd']);
  const loaded = await createPipeline(p, { log: () => {} });
  try {
    const r = await loaded.run({ x: txt('X'), q: txt('Q') });
    assert.deepEqual(texts(r), reference(DAG, { x: 'X', q: 'Q' }));
    assert.equal(texts(r).result, 'D(B(A(X)),C(A(X),X),Q)');
    assert.deepEqual(Object.keys(r.timings.bricks), ['a', 'b', 'c', 'd']);
    assert.deepEqual(r.devices, { a: 'devA', b: 'devB', c: 'devA', d: 'devB' });
    assert.ok(r.timings.total_ms >= r.timings.bricks.b!);
    await assert.rejects(loaded.run({ x: txt('X') }), { name: 'RequestError', code: 'PIPELINE_INPUT_MISSING' });
    await assert.rejects(loaded.run({ x: txt('X'), q: { kind: 'tokens', data: new Int32Array(1) } }), { name: 'RequestError', code: 'PIPELINE_INPUT_KIND' });
    // One stream at a time.
    const it = loaded.stream(items(3));
    await it.next();
    await assert.rejects(loaded.run({ x: txt('X'), q: txt('Q') }), { code: 'PIPELINE_BUSY' });
    await it.return(undefined);
    assert.equal(texts(await loaded.run({ x: txt('Y'), q: txt('Q') })).result, 'D(B(A(Y)),C(A(Y),Y),Q)');
  } finally {
    loaded.dispose();
  }
});

test('pipelined stream = sequential stream, in input order; overlap by event order, none when sequential', async () => {
  const spec: PipelineSpec = {
    version: 1,
    name: 'two',
    inputs: { x: { kind: 'text' }, q: { kind: 'text' } },
    bricks: [
      { name: 'a', type: 'test.fn', inputs: { x: '$x' }, options: { tag: 'A', delayMs: 5 } },
      { name: 'b', type: 'test.fn', inputs: { x: 'a.out', q: '$q' }, options: { ports: ['x', 'q'], tag: 'B', delayMs: 5 } },
    ],
    placement: { a: 'devA', b: 'devB' },
    outputs: { out: 'b.out' },
  };
  const loaded = await createPipeline(validatePipeline(spec), { log: () => {} });
  try {
    const n = 6;
    events.length = 0;
    const seq = await loaded.runAll(items(n), { mode: 'sequential' });
    const seqEvents = events.splice(0);
    const pip = await loaded.runAll(items(n), { mode: 'pipelined', depth: 2 });
    const pipEvents = events.splice(0);
    assert.equal(seq.mode, 'sequential');
    assert.equal(pip.mode, 'pipelined');
    assert.deepEqual(pip.results.map((r) => r.index), [...Array(n).keys()]);
    for (let i = 0; i < n; i++) {
      assert.deepEqual(texts(pip.results[i]!), texts(seq.results[i]!));
      assert.deepEqual(texts(pip.results[i]!), reference(spec, { x: `i${i}`, q: `q${i}` }));
    }
    const at = (ev: string[], e: string): number => {
      const k = ev.indexOf(e);
      assert.ok(k >= 0, `missing event ${e}`);
      return k;
    };
    // Item t's `b` runs on `A(i<t>)`; `a` runs on `i<t>`.
    let overlaps = 0;
    for (let t = 0; t + 1 < n; t++) {
      assert.ok(at(seqEvents, `start a i${t + 1}`) > at(seqEvents, `end b A(i${t})`), `sequential: item ${t + 1} started before item ${t} finished`);
      if (at(pipEvents, `start a i${t + 1}`) < at(pipEvents, `end b A(i${t})`)) overlaps++;
    }
    console.log(`# pipelined: a(t+1) started before b(t) ended for ${overlaps}/${n - 1} items; wall ${pip.wall_ms.toFixed(0)} ms vs sequential ${seq.wall_ms.toFixed(0)} ms (not asserted)`);
    assert.ok(overlaps >= 1, `pipelined mode never overlapped a and b: ${pipEvents.join(' | ')}`);
  } finally {
    loaded.dispose();
  }
});

test('backpressure: queue high-water ≤ depth and the input is read at most stages + (stages+1)·depth items ahead', async () => {
  const loaded = await createPipeline(validatePipeline(DAG), { log: () => {} });
  try {
    for (const depth of [1, 2]) {
      let read = 0;
      let consumed = 0;
      let maxAhead = 0;
      const n = 24;
      function* source(): Generator<PipelineInputs> {
        for (let i = 0; i < n; i++) {
          read++;
          maxAhead = Math.max(maxAhead, read - consumed);
          yield { x: txt(`i${i}`), q: txt('q') };
        }
      }
      for await (const r of loaded.stream(source(), { depth })) {
        assert.equal(texts(r).result, reference(DAG, { x: `i${r.index}`, q: 'q' }).result);
        consumed++;
        await new Promise((res) => setTimeout(res, 2)); // a slow consumer
      }
      assert.equal(consumed, n);
      const hw = loaded.executor.queueHighWater;
      assert.equal(hw.length, DAG.bricks.length + 1);
      for (const h of hw) assert.ok(h <= depth, `queue high-water ${h} > depth ${depth}`);
      const bound = DAG.bricks.length + (DAG.bricks.length + 1) * depth;
      assert.ok(maxAhead <= bound + 1, `read ${maxAhead} items ahead, bound ${bound}`);
      assert.ok(maxAhead < n, 'the whole input was read at once: no backpressure');
    }
  } finally {
    loaded.dispose();
  }
});

test('a device failing mid-stream: the brick moves to the next registry device, the stream completes with the same outputs', async () => {
  const logs: string[] = [];
  const loaded = await createPipeline(validatePipeline(DAG), { log: (m) => logs.push(m) });
  try {
    const n = 8;
    const want = items(n).map((_, i) => reference(DAG, { x: `i${i}`, q: `q${i}` }));
    dying.set('devB', 3); // `b` and `d` share devB: it answers 3 runs, then throws BackendError
    const got = await collect(loaded.stream(items(n), { depth: 2 }));
    dying.delete('devB');
    assert.deepEqual(got.map((r) => r.index), [...Array(n).keys()]);
    for (let i = 0; i < n; i++) assert.deepEqual(texts(got[i]!), want[i], `item ${i}`);
    const moves = logs.filter((l) => l.startsWith('re-planned:'));
    // devB is excluded; both of its bricks move to their next device (devA comes first in the registry list).
    assert.deepEqual(moves.map((l) => l.replace(/ \(.*$/, '')), ['re-planned: b devB→devA', 're-planned: d devB→devA']);
    assert.match(moves[0]!, /TEST_DEVICE_LOST/);
    assert.deepEqual(loaded.executor.currentPlacement, { a: 'devA', b: 'devA', c: 'devA', d: 'devA' });
    assert.deepEqual(got[n - 1]!.devices, { a: 'devA', b: 'devA', c: 'devA', d: 'devA' });
    assert.equal(got[0]!.devices.b, 'devB');
    assert.equal(loaded.bricks.get('b')!.device, 'devA');
  } finally {
    loaded.dispose();
  }
});

test('a device missing at creation is re-planned before the first item; a brick with no other device is its own typed error', async () => {
  const spec: PipelineSpec = {
    version: 1,
    name: 'missing',
    inputs: { x: { kind: 'text' } },
    bricks: [{ name: 'a', type: 'test.fn', inputs: { x: '$x' }, options: { tag: 'needs-devC' } }],
    placement: { a: 'devC' },
    outputs: { out: 'a.out' },
  };
  const logs: string[] = [];
  const loaded = await createPipeline(validatePipeline(spec), { log: (m) => logs.push(m) });
  try {
    assert.equal(loaded.executor.currentPlacement.a, 'devA');
    assert.ok(logs.some((l) => /^re-planned: a devC→devA \(devC unavailable: devC is not installed\)$/.test(l)), logs.join('\n'));
    assert.equal(texts(await loaded.run({ x: txt('X') })).out, 'needs-devC(X)');
  } finally {
    loaded.dispose();
  }
  const only: PipelineSpec = { ...spec, bricks: [{ name: 'a', type: 'test.only-c', inputs: { x: '$x' } }], placement: { a: 'devC' } };
  await assert.rejects(createPipeline(validatePipeline(only), { log: () => {} }), { name: 'BackendError', code: 'TEST_NO_DEVICE' });
});

test('a RequestError from a brick ends the stream with that error; earlier items came out correct; the pipeline stays usable', async () => {
  const loaded = await createPipeline(validatePipeline(DAG), { log: () => {} });
  try {
    for (const mode of ['pipelined', 'sequential'] as const) {
      const ins = items(6);
      ins[3] = { x: txt('bad3'), q: txt('q3') };
      const got: PipelineItemResult[] = [];
      await assert.rejects(
        (async () => {
          for await (const r of loaded.stream(ins, { mode })) got.push(r);
        })(),
        { name: 'RequestError', code: 'TEST_BAD_ITEM' },
      );
      assert.ok(got.length <= 3, `${mode}: ${got.length} items after the bad one`);
      got.forEach((r, i) => {
        assert.equal(r.index, i);
        assert.deepEqual(texts(r), reference(DAG, { x: `i${i}`, q: `q${i}` }));
      });
      if (mode === 'sequential') assert.equal(got.length, 3);
    }
    assert.equal(texts(await loaded.run({ x: txt('ok'), q: txt('q') })).result, reference(DAG, { x: 'ok', q: 'q' }).result);
  } finally {
    loaded.dispose();
  }
});

test('worker-hosted bricks (built-in types) give the main thread outputs; bad input keeps its error class; run-time types cannot be hosted', async () => {
  const { join } = await import('node:path');
  const { repoRoot } = await import('../helpers/paths.js');
  const spec: PipelineSpec = {
    version: 1,
    name: 'hosted',
    inputs: { image: { kind: 'text' }, who: { kind: 'text' } },
    bricks: [
      { name: 'decode', type: 'image.decode', inputs: { path: '$image' } },
      { name: 'greet', type: 'text.template', inputs: { who: '$who' }, options: { template: 'Hello {who}!' } },
    ],
    outputs: { greeting: 'greet.text', pixels: 'decode.image' },
  };
  const img = join(repoRoot(), 'tests/fixtures/images/ocr-notice.png');
  const ins = [0, 1, 2].map((i) => ({ image: txt(img), who: txt(`w${i}`) }));
  const main = await createPipeline(validatePipeline(spec), { log: () => {} });
  const hosted = await createPipeline(validatePipeline(spec), { log: () => {}, workers: ['decode', 'greet'] });
  try {
    assert.equal(hosted.bricks.get('decode')!.constructor.name, 'WorkerBrick');
    const a = await main.runAll(ins, { mode: 'pipelined' });
    const b = await hosted.runAll(ins, { mode: 'pipelined' });
    for (let i = 0; i < ins.length; i++) {
      assert.deepEqual(b.results[i]!.outputs.greeting, txt(`Hello w${i}!`));
      assert.deepEqual(b.results[i]!.outputs.pixels, a.results[i]!.outputs.pixels);
    }
    await assert.rejects(hosted.run({ image: txt(join(repoRoot(), 'package.json')), who: txt('x') }), { name: 'ImageError', code: 'IMAGE_UNSUPPORTED_FORMAT' });
    assert.equal(hosted.executor.replans.length, 0, 'a bad image must not re-plan');
  } finally {
    main.dispose();
    hosted.dispose();
  }
  await assert.rejects(createPipeline(validatePipeline(spec), { workers: ['nope'] }), { name: 'PipelineError', code: 'PIPELINE_BAD_OPTION' });
  await assert.rejects(createPipeline(validatePipeline(DAG), { log: () => {}, workers: ['a'] }), { name: 'PipelineError', code: 'PIPELINE_UNKNOWN_TYPE' });
});
