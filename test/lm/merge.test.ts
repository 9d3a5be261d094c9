/**
 * Two toy LMs in one graph (merge.ts via augmentForScoring's observer): the cross-entropy output against a float64
 * JS computation, the main model's outputs untouched, opset clashes refused, no name collisions even when both graphs
 * use the same internal names, and the observer's own KV-cache inputs fed from the observer's ModelSpec.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/errors.js';
import { assertFeedable, buildFeeds, type ModelInput, type WindowJob } from '../../src/lm/batch.js';
import type { ModelSpec } from '../../src/lm/model-config.js';
import { augmentForScoring, OBSERVER_PREFIX, SCORING_OUTPUTS } from '../../src/lm/onnx/augment.js';
import { GraphBuilder } from '../../src/onnx/graph-builder.js';
import { DataType, decodeModel, encodeModel, type IGraphProto } from '../../src/onnx/proto.js';
import { createScoringSession } from '../../src/lm/session.js';
import { mulberry32 } from '../../src/random.js';

const V = 7;
const D = 3;

interface Toy {
  bytes: Uint8Array;
  E: Float32Array;
  W: Float32Array;
  vocab: number;
}

interface ToyOptions {
  /** Takes `past_key_values.0.key` [batch, heads, past, head_dim] (symbolic dims), added to the embedding as its sum. */
  kv?: boolean;
  /** Takes `attention_mask` and zeroes the embedding where it is 0. */
  mask?: boolean;
  /** Width of the logits (default V): a padded embedding table, ids ≥ V never fed. */
  vocab?: number;
  /** Declare the logits' vocabulary axis symbolic instead of static. */
  symbolicVocab?: boolean;
  /** Apply the activation through a model-local function toy.fn/Act whose body is this op. */
  fn?: 'Tanh' | 'Sigmoid';
}

/**
 * A toy "LM": logits = tanh(E[id] (· mask) (+ Σ past)) · W. Every toy uses the same internal names ('embed', 'head',
 * 'final_hidden', 'logits', and the builder's generated ones); only the seeded weights differ.
 */
function toyLm(seed: number, opset: number, opts: ToyOptions = {}): Toy {
  const r = mulberry32(seed);
  const vocab = opts.vocab ?? V;
  const E = Float32Array.from({ length: vocab * D }, () => 4 * r() - 2);
  const W = Float32Array.from({ length: D * vocab }, () => 4 * r() - 2);
  const b = new GraphBuilder(opset);
  b.input('input_ids', DataType.INT64, ['batch', 'seq']);
  b.initFloat('embed', E, [vocab, D]);
  b.initFloat('head', W, [D, vocab]);
  let x = b.op('Gather', ['embed', 'input_ids']);
  if (opts.mask) {
    b.input('attention_mask', DataType.INT64, ['batch', 'seq']);
    x = b.op('Mul', [x, b.unsqueeze(b.cast('attention_mask', DataType.FLOAT), [2])]);
  }
  if (opts.kv) {
    b.input('past_key_values.0.key', DataType.FLOAT, ['batch', 'heads', 'past', 'head_dim']);
    x = b.op('Add', [x, b.reduceSum('past_key_values.0.key', [0, 1, 2, 3], false)]);
  }
  const h = opts.fn
    ? b.node('Act', [x], { domain: 'toy.fn', outputs: ['final_hidden'] })[0]!
    : b.op('Tanh', [x], undefined, 'final_hidden');
  b.op('MatMul', [h, 'head'], undefined, 'logits');
  b.output('logits', DataType.FLOAT, ['batch', 'seq', opts.symbolicVocab ? 'vocab' : vocab]);
  const functions = opts.fn
    ? [
        {
          name: 'Act',
          domain: 'toy.fn',
          input: ['X'],
          output: ['Y'],
          node: [{ opType: opts.fn, input: ['X'], output: ['Y'], domain: '' }],
          opsetImport: [{ domain: '', version: opset }],
        },
      ]
    : [];
  const opsetImport = [{ domain: '', version: opset }, ...(opts.fn ? [{ domain: 'toy.fn', version: 1 }] : [])];
  const bytes = encodeModel({ irVersion: opts.fn ? 8 : 7, opsetImport, graph: b.toGraph('toy'), functions });
  return { bytes, E, W, vocab };
}

/** Float64 logits of a toy at one position (mask 1, empty past). */
function logits64(m: Toy, id: number): number[] {
  const h = Array.from({ length: D }, (_, k) => Math.tanh(m.E[id * D + k]!));
  return Array.from({ length: m.vocab }, (_, v) => h.reduce((s, hk, k) => s + hk * m.W[k * m.vocab + v]!, 0));
}

function logSoftmax64(l: number[]): number[] {
  const max = Math.max(...l);
  const lse = max + Math.log(l.reduce((s, x) => s + Math.exp(x - max), 0));
  return l.map((x) => x - lse);
}

/** -Σ_v softmax(observer)_v · log_softmax(main)_v over the ids both have (each normalised over its own), in float64. */
function crossEntropy64(main: Toy, observer: Toy, id: number): number {
  const logp = logSoftmax64(logits64(main, id));
  const q = logSoftmax64(logits64(observer, id)).map(Math.exp);
  let x = 0;
  for (let v = 0; v < Math.min(main.vocab, observer.vocab); v++) x -= q[v]! * logp[v]!;
  return x;
}

const IDS = [
  [0, 3, 6, 2],
  [5, 5, 1, 4],
];
const TARGETS = [
  [3, 6, 2, 0],
  [5, 1, 4, 6],
];
const EMBED_MASK = [
  [0, 1, 1, 0],
  [1, 0, 1, 1],
];
const i64 = (a: number[][]) => new ort.Tensor('int64', BigInt64Array.from(a.flat(), BigInt), [a.length, a[0]!.length]);
const FEEDS = () => ({
  input_ids: i64(IDS),
  tg_targets: i64(TARGETS),
  tg_embed_mask: new ort.Tensor('float32', Float32Array.from(EMBED_MASK.flat()), [2, 4]),
});

/** Every name a graph defines (initializers, inputs, node outputs). */
function defined(g: IGraphProto): string[] {
  return [
    ...(g.initializer ?? []).map((t) => t.name ?? ''),
    ...(g.input ?? []).map((i) => i.name ?? ''),
    ...(g.node ?? []).flatMap((n) => n.output ?? []),
  ];
}

describe.each([11, 17])('an observer merged at opset %i', (opset) => {
  const main = toyLm(1, opset);
  const other = toyLm(2, opset);

  it('tg_xent = -Σ_v p_observer(v) log p_main(v), as float64 JS computes it (1e-5)', async () => {
    const session = await ort.InferenceSession.create(
      augmentForScoring(main.bytes, 'main', { bytes: other.bytes, name: 'other' }).bytes,
    );
    expect(session.outputNames).toEqual([
      ...Object.values(SCORING_OUTPUTS).filter((o) => o !== SCORING_OUTPUTS.crossEntropy),
      SCORING_OUTPUTS.crossEntropy,
    ]);
    expect(session.inputNames.filter((n) => n.startsWith(OBSERVER_PREFIX))).toEqual([]); // input_ids is shared
    const xent = (await session.run(FEEDS())).tg_xent!;
    expect(xent.dims).toEqual([2, 4]);
    const data = xent.data as Float32Array;
    let differs = false;
    IDS.forEach((row, b) =>
      row.forEach((id, t) => {
        const want = crossEntropy64(main, other, id);
        expect(Math.abs(data[b * 4 + t]! - want)).toBeLessThan(1e-5);
        // The observer's own weights are used: its cross-entropy is not main's entropy.
        const h = -logSoftmax64(logits64(main, id)).reduce((s, l) => s + Math.exp(l) * l, 0);
        if (Math.abs(want - h) > 1e-2) differs = true;
      }),
    );
    expect(differs).toBe(true);
  });

  it("leaves the scoring model's own outputs as augmenting it alone gives them", async () => {
    const alone = await ort.InferenceSession.create(augmentForScoring(main.bytes, 'main').bytes);
    const merged = await ort.InferenceSession.create(
      augmentForScoring(main.bytes, 'main', { bytes: other.bytes, name: 'other' }).bytes,
    );
    const a = await alone.run(FEEDS());
    const m = await merged.run(FEEDS());
    for (const name of alone.outputNames) {
      expect(m[name]!.dims, name).toEqual(a[name]!.dims);
      const x = m[name]!.data as Float32Array;
      const y = a[name]!.data as Float32Array;
      for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - y[i]!), name).toBeLessThan(1e-6);
    }
  });

  it('an observer identical to the scoring model gives tg_xent = tg_entropy', async () => {
    const session = await ort.InferenceSession.create(
      augmentForScoring(main.bytes, 'main', { bytes: main.bytes, name: 'same' }).bytes,
    );
    const out = await session.run(FEEDS());
    const x = out.tg_xent!.data as Float32Array;
    const h = out.tg_entropy!.data as Float32Array;
    for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - h[i]!)).toBeLessThan(1e-5);
  });

  it("keeps both graphs' same-named values apart: every observer name is prefixed, none collides", () => {
    const aug = augmentForScoring(main.bytes, 'main', { bytes: other.bytes, name: 'other' });
    expect(aug.hiddenStateName).toBe('final_hidden');
    const g = decodeModel(aug.bytes).graph!;
    const names = defined(g);
    expect(new Set(names).size).toBe(names.length);
    const nodeNames = (g.node ?? []).map((n) => n.name ?? '').filter(Boolean);
    expect(new Set(nodeNames).size).toBe(nodeNames.length);
    for (const n of ['embed', 'head', 'final_hidden', 'logits']) {
      expect(names).toContain(n);
      expect(names).toContain(`${OBSERVER_PREFIX}${n}`);
    }
    // The observer's weights sit under the prefix, main's under the original names.
    const init = (name: string) => g.initializer!.find((t) => t.name === name)!;
    expect(new Float32Array(Uint8Array.from(init(`${OBSERVER_PREFIX}embed`).rawData!).buffer)).toEqual(other.E);
    expect(new Float32Array(Uint8Array.from(init('embed').rawData!).buffer)).toEqual(main.E);
    // Every name the observer brought in (= not in main's augmented-alone graph) carries the prefix.
    const alone = new Set(defined(decodeModel(augmentForScoring(main.bytes, 'main').bytes).graph!));
    const brought = names.filter((n) => !alone.has(n) && n !== SCORING_OUTPUTS.crossEntropy && !n.startsWith('tg/'));
    expect(brought.length).toBeGreaterThan(0);
    for (const n of brought) expect(n.startsWith(OBSERVER_PREFIX), n).toBe(true);
  });
});

describe('models of one tokenizer with differently padded vocabularies', () => {
  // Same-tokenizer families pad their embedding tables differently (ids past the tokenizer are never tokens).
  it.each([
    ['a larger observer', { vocab: V }, { vocab: V + 2 }],
    ['a larger scoring model', { vocab: V + 3 }, { vocab: V }],
    ['symbolic vocabulary axes', { vocab: V + 1, symbolicVocab: true }, { vocab: V, symbolicVocab: true }],
    ['one symbolic axis', { vocab: V }, { vocab: V + 2, symbolicVocab: true }],
  ])(
    '%s: tg_xent sums over the common ids, the other outputs as alone',
    async (_, mainOpts: ToyOptions, otherOpts: ToyOptions) => {
      for (const opset of [11, 17]) {
        const main = toyLm(1, opset, mainOpts);
        const other = toyLm(2, opset, otherOpts);
        const session = await ort.InferenceSession.create(
          augmentForScoring(main.bytes, 'main', { bytes: other.bytes, name: 'other' }).bytes,
        );
        const alone = await ort.InferenceSession.create(augmentForScoring(main.bytes, 'main').bytes);
        const out = await session.run(FEEDS());
        const ref = await alone.run(FEEDS());
        const xent = out.tg_xent!.data as Float32Array;
        IDS.forEach((row, b) =>
          row.forEach((id, t) =>
            expect(Math.abs(xent[b * 4 + t]! - crossEntropy64(main, other, id)), `opset ${opset}`).toBeLessThan(1e-5),
          ),
        );
        for (const name of alone.outputNames) expect(out[name]!.data, name).toEqual(ref[name]!.data);
      }
    },
  );
});

describe('model-local functions', () => {
  it("keeps the observer's functions: its graph runs as written", async () => {
    const main = toyLm(1, 17);
    const other = toyLm(2, 17, { fn: 'Tanh' });
    const session = await ort.InferenceSession.create(
      augmentForScoring(main.bytes, 'main', { bytes: other.bytes, name: 'other' }).bytes,
    );
    const xent = (await session.run(FEEDS())).tg_xent!.data as Float32Array;
    IDS.forEach((row, b) =>
      row.forEach((id, t) => expect(Math.abs(xent[b * 4 + t]! - crossEntropy64(main, other, id))).toBeLessThan(1e-5)),
    );
  });

  it('keeps one copy of a function both define alike, and refuses one they define differently, naming both', () => {
    const same = augmentForScoring(toyLm(1, 17, { fn: 'Tanh' }).bytes, 'main', {
      bytes: toyLm(2, 17, { fn: 'Tanh' }).bytes,
      name: 'other',
    });
    expect(decodeModel(same.bytes).functions!.map((f) => `${f.domain}/${f.name}`)).toEqual(['toy.fn/Act']);
    expect(() =>
      augmentForScoring(toyLm(1, 17, { fn: 'Tanh' }).bytes, 'main.onnx', {
        bytes: toyLm(2, 17, { fn: 'Sigmoid' }).bytes,
        name: 'other.onnx',
      }),
    ).toThrow(/other\.onnx: .*toy\.fn\.Act.*main\.onnx/);
  });
});

describe('merge refusals', () => {
  it('refuses an observer importing another opset version, naming both models', () => {
    const main = toyLm(1, 17);
    const other = toyLm(2, 13);
    let err: unknown;
    try {
      augmentForScoring(main.bytes, 'main.onnx', { bytes: other.bytes, name: 'other.onnx' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelLoadError);
    const msg = (err as Error).message;
    expect(msg).toContain('other.onnx');
    expect(msg).toContain('main.onnx');
    expect(msg).toMatch(/version 13/);
    expect(msg).toMatch(/version 17/);
  });

  it('explains an observer without a logits output, naming it', () => {
    const b = new GraphBuilder(17);
    b.input('input_ids', DataType.INT64, ['batch', 'seq']);
    b.op('Identity', ['input_ids'], undefined, 'y');
    b.output('y', DataType.INT64, ['batch', 'seq']);
    const bytes = encodeModel({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: b.toGraph('g') });
    expect(() => augmentForScoring(toyLm(1, 17).bytes, 'main', { bytes, name: 'obs.onnx' })).toThrow(
      /obs\.onnx: .*no 'logits' output/,
    );
  });
});

describe("an observer's KV-cache input", () => {
  const spec: ModelSpec = {
    modelType: 'llama',
    hiddenSize: D,
    contextLength: 8,
    numLayers: 1,
    numKeyValueHeads: 2,
    headDim: 2,
    vocabSize: V,
    bosTokenId: 1,
    eosTokenId: 2,
  };
  const observerSpec: ModelSpec = { ...spec, numKeyValueHeads: 3, headDim: 5 };
  const jobs: WindowJob[] = IDS.map((ids, doc) => ({
    doc,
    ids: Int32Array.from(ids),
    window: { start: 0, end: ids.length, scoreFrom: 1 },
  }));

  it("is prefixed, passes assertFeedable, and buildFeeds feeds it from the observer's spec; the session runs on those feeds", async () => {
    // Both graphs take past_key_values.0.key; only the observer takes attention_mask (it becomes a shared input).
    const main = toyLm(1, 17, { kv: true });
    const other = toyLm(2, 17, { kv: true, mask: true });
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-merge-'));
    writeFileSync(join(dir, 'main.onnx'), main.bytes);
    writeFileSync(join(dir, 'observer.onnx'), other.bytes);
    const scoring = await createScoringSession(join(dir, 'main.onnx'), {
      devices: ['cpu'],
      threads: 1,
      observerOnnxPath: join(dir, 'observer.onnx'),
    });
    const names = scoring.inputs.map((i) => i.name);
    expect(names.sort()).toEqual([
      'attention_mask',
      'input_ids',
      'past_key_values.0.key',
      'tg_embed_mask',
      'tg_observer/past_key_values.0.key',
      'tg_targets',
    ]);
    expect(() => assertFeedable(scoring.inputs, 'm')).not.toThrow();

    const { feeds, seqLen } = buildFeeds(jobs, scoring.inputs, spec, 0, observerSpec);
    expect(seqLen).toBe(4);
    expect(Object.keys(feeds).sort()).toEqual(names);
    expect(feeds['past_key_values.0.key']!.dims).toEqual([2, 2, 0, 2]);
    expect(feeds['tg_observer/past_key_values.0.key']!.dims).toEqual([2, 3, 0, 5]);
    expect(Array.from(feeds.attention_mask!.data as BigInt64Array, Number)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);

    const out = await scoring.session.run(feeds);
    const xent = out.tg_xent!.data as Float32Array;
    IDS.forEach((row, b) =>
      row.forEach((id, t) => expect(Math.abs(xent[b * 4 + t]! - crossEntropy64(main, other, id))).toBeLessThan(1e-5)),
    );
    await scoring.release();
  });

  it('buildFeeds gives a graph-declared head size precedence over either spec, and refuses an unknown observer input', () => {
    const inputs: ModelInput[] = [
      { name: 'input_ids' },
      { name: 'tg_observer/past_key_values.0.value', type: 'float16', shape: ['batch', 6, 'past', 'head_dim'] },
      { name: 'tg_observer/use_cache_branch' },
    ];
    const { feeds } = buildFeeds(jobs, inputs, spec, 0, observerSpec);
    expect(feeds['tg_observer/past_key_values.0.value']!.type).toBe('float16');
    expect(feeds['tg_observer/past_key_values.0.value']!.dims).toEqual([2, 6, 0, 5]);
    expect(feeds['tg_observer/use_cache_branch']!.type).toBe('bool');
    expect(() => assertFeedable([...inputs, { name: 'tg_observer/token_type_ids' }], 'm')).toThrow(
      /tg_observer\/token_type_ids/,
    );
    expect(() => buildFeeds(jobs, [{ name: 'tg_observer/token_type_ids' }], spec, 0, observerSpec)).toThrow(
      /tg_observer\/token_type_ids/,
    );
  });
});
