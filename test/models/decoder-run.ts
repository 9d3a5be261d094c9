/** Helpers for the model tests: run an optimum-style decoder-with-past ONNX graph with onnxruntime-node. */
import * as ort from 'onnxruntime-node';
import { logSoftmax as logSoftmax64 } from '../reference/math.js';

export { logSoftmax64 };

export interface DecoderShape {
  nLayers: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
}

export interface DecoderRun {
  /** logits[b][t] (float32 values) for every row and position of the padded batch. */
  logits: Float32Array[][];
  present: Record<string, ort.Tensor>;
  dims: readonly number[];
}

const i64 = (values: number[], dims: number[]) =>
  new ort.Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(v))), dims);

export function emptyPast(shape: DecoderShape, batch: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (let l = 0; l < shape.nLayers; l++) {
    for (const kv of ['key', 'value']) {
      feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [
        batch,
        shape.kvHeads,
        0,
        shape.headDim,
      ]);
    }
  }
  return feeds;
}

/**
 * Runs a batch of sequences padded to the longest one. `side` right: tokens then pads (mask 0), positions 0..S-1;
 * left: pads first, positions as transformers computes them (cumsum(mask) - 1, clamped at 0 for pads).
 */
export async function runBatch(
  session: ort.InferenceSession,
  shape: DecoderShape,
  seqs: number[][],
  opts: { padId: number; side?: 'right' | 'left' },
): Promise<DecoderRun> {
  const B = seqs.length;
  const S = Math.max(...seqs.map((s) => s.length));
  const ids: number[] = [];
  const mask: number[] = [];
  const pos: number[] = [];
  for (const s of seqs) {
    const pad = S - s.length;
    if (opts.side === 'left') {
      for (let i = 0; i < pad; i++) (ids.push(opts.padId), mask.push(0), pos.push(0));
      s.forEach((t, i) => (ids.push(t), mask.push(1), pos.push(i)));
    } else {
      s.forEach((t, i) => (ids.push(t), mask.push(1), pos.push(i)));
      for (let i = 0; i < pad; i++) (ids.push(opts.padId), mask.push(0), pos.push(s.length + i));
    }
  }
  const out = await session.run({
    input_ids: i64(ids, [B, S]),
    attention_mask: i64(mask, [B, S]),
    position_ids: i64(pos, [B, S]),
    ...emptyPast(shape, B),
  });
  return { ...split(out, shape, B, S), present: presentOf(out), dims: out.logits!.dims };
}

/** Runs one sequence in two chunks: the first with an empty past, the second fed the first's present.* as past. */
export async function runWithPast(
  session: ort.InferenceSession,
  shape: DecoderShape,
  seq: number[],
  splitAt: number,
): Promise<Float32Array[]> {
  const first = seq.slice(0, splitAt);
  const second = seq.slice(splitAt);
  const r1 = await session.run({
    input_ids: i64(first, [1, first.length]),
    attention_mask: i64(
      first.map(() => 1),
      [1, first.length],
    ),
    position_ids: i64(
      first.map((_, i) => i),
      [1, first.length],
    ),
    ...emptyPast(shape, 1),
  });
  const past: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(presentOf(r1))) past[name.replace('present.', 'past_key_values.')] = t;
  const r2 = await session.run({
    input_ids: i64(second, [1, second.length]),
    attention_mask: i64(
      seq.map(() => 1),
      [1, seq.length],
    ),
    position_ids: i64(
      second.map((_, i) => splitAt + i),
      [1, second.length],
    ),
    ...past,
  });
  return [...split(r1, shape, 1, first.length).logits[0]!, ...split(r2, shape, 1, second.length).logits[0]!];
}

function presentOf(out: ort.InferenceSession.OnnxValueMapType): Record<string, ort.Tensor> {
  const p: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(out)) if (k.startsWith('present.')) p[k] = v as ort.Tensor;
  return p;
}

function split(
  out: ort.InferenceSession.OnnxValueMapType,
  shape: DecoderShape,
  B: number,
  S: number,
): { logits: Float32Array[][] } {
  const data = (out.logits as ort.Tensor).data as Float32Array;
  const V = shape.vocab;
  return {
    logits: Array.from({ length: B }, (_, b) =>
      Array.from({ length: S }, (_, t) => data.slice((b * S + t) * V, (b * S + t + 1) * V)),
    ),
  };
}

/** Largest |log_softmax(a) - log_softmax(b)| over all entries. */
export function maxLogProbDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = logSoftmax64(a);
  const y = logSoftmax64(b);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  return Number.isNaN(worst) ? Infinity : worst;
}

export function allFinite(xs: Float32Array[][]): boolean {
  return xs.every((row) => row.every((v) => v.every((x) => Number.isFinite(x))));
}
