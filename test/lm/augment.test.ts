import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { augmentForScoring, findFinalHiddenState, SCORING_OUTPUTS } from '../../src/lm/onnx/augment.js';
import { GraphBuilder } from '../../src/onnx/graph-builder.js';
import { DataType, encodeModel } from '../../src/onnx/proto.js';

const V = 7;
const D = 3;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 4 - 2;
}

/** A toy "LM": logits = tanh(E[id]) · W, with hidden = tanh(E[id]) feeding the final MatMul. */
function toyModel(opset: number): { bytes: Uint8Array; E: Float32Array; W: Float32Array } {
  const r = rng(opset);
  const E = Float32Array.from({ length: V * D }, r);
  const W = Float32Array.from({ length: D * V }, r);
  const b = new GraphBuilder(opset);
  b.input('input_ids', DataType.INT64, ['batch', 'seq']);
  b.initFloat('embed', E, [V, D]);
  b.initFloat('head', W, [D, V]);
  const h = b.op('Tanh', [b.op('Gather', ['embed', 'input_ids'])], undefined, 'final_hidden');
  b.op('MatMul', [h, 'head'], undefined, 'logits');
  b.output('logits', DataType.FLOAT, ['batch', 'seq', V]);
  const bytes = encodeModel({ irVersion: 7, opsetImport: [{ domain: '', version: opset }], graph: b.toGraph('toy') });
  return { bytes, E, W };
}

function reference(E: Float32Array, W: Float32Array, id: number, target: number) {
  const h = Array.from({ length: D }, (_, k) => Math.tanh(E[id * D + k]!));
  const logits = Array.from({ length: V }, (_, v) => h.reduce((s, hk, k) => s + hk * W[k * V + v]!, 0));
  const m = Math.max(...logits);
  const lse = m + Math.log(logits.reduce((s, l) => s + Math.exp(l - m), 0));
  const logp = logits.map((l) => l - lse);
  const p = logp.map(Math.exp);
  const e = p.reduce((s, pv, v) => s + pv * logp[v]!, 0);
  return {
    h,
    logp: logp[target]!,
    entropy: -e,
    variance: p.reduce((s, pv, v) => s + pv * (logp[v]! - e) ** 2, 0),
    rank: 1 + logp.filter((l) => l > logp[target]!).length,
  };
}

describe.each([11, 17])('augmentForScoring at opset %i', (opset) => {
  it('finds the hidden state feeding the logits projection', () => {
    const { bytes } = toyModel(opset);
    const aug = augmentForScoring(bytes, 'toy');
    expect(aug.hiddenStateName).toBe('final_hidden');
  });

  it('computes log p, entropy, variance, rank and masked hidden sums in-graph, as float64 JS does', async () => {
    const { bytes, E, W } = toyModel(opset);
    const session = await ort.InferenceSession.create(augmentForScoring(bytes, 'toy').bytes);
    expect(session.outputNames).toEqual(Object.values(SCORING_OUTPUTS).slice(0, 4).concat(SCORING_OUTPUTS.hiddenSum));
    const ids = [
      [0, 3, 6, 2],
      [5, 5, 1, 4],
    ];
    const targets = [
      [3, 6, 2, 0],
      [5, 1, 4, 6],
    ];
    const mask = [
      [0, 1, 1, 0],
      [1, 0, 1, 1],
    ];
    const flat = (a: number[][]) => a.flat();
    const out = await session.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(flat(ids), BigInt), [2, 4]),
      tg_targets: new ort.Tensor('int64', BigInt64Array.from(flat(targets), BigInt), [2, 4]),
      tg_embed_mask: new ort.Tensor('float32', Float32Array.from(flat(mask)), [2, 4]),
    });
    for (let b = 0; b < 2; b++) {
      const hsum = [0, 0, 0];
      for (let t = 0; t < 4; t++) {
        const ref = reference(E, W, ids[b]![t]!, targets[b]![t]!);
        const k = b * 4 + t;
        expect((out.tg_logp!.data as Float32Array)[k]).toBeCloseTo(ref.logp, 5);
        expect((out.tg_entropy!.data as Float32Array)[k]).toBeCloseTo(ref.entropy, 5);
        expect((out.tg_var!.data as Float32Array)[k]).toBeCloseTo(ref.variance, 5);
        expect((out.tg_rank!.data as Float32Array)[k]).toBe(ref.rank);
        ref.h.forEach((v, i) => {
          hsum[i]! += mask[b]![t]! * v;
        });
      }
      for (let i = 0; i < D; i++) expect((out.tg_hidden_sum!.data as Float32Array)[b * D + i]).toBeCloseTo(hsum[i]!, 5);
    }
  });
});

it('explains when a graph has no logits output', () => {
  const b = new GraphBuilder(17);
  b.input('x', DataType.FLOAT, [1]);
  b.op('Identity', ['x'], undefined, 'y');
  b.output('y', DataType.FLOAT, [1]);
  const bytes = encodeModel({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: b.toGraph('g') });
  expect(() => augmentForScoring(bytes, 'm')).toThrow(/no 'logits' output/);
});

it('explains when logits come from no projection', () => {
  const b = new GraphBuilder(17);
  b.input('x', DataType.FLOAT, [1, 1, 2]);
  b.op('Relu', ['x'], undefined, 'logits');
  expect(() => findFinalHiddenState(b.toGraph('g'), 'logits', 'm')).toThrow(/final projection/);
});
