/**
 * Graph fragments shared by the decoder-model writers (Llama from llama2.c, tiny GPT-2): dynamic dims, the
 * causal + padding attention mask of an optimum-style decoder with past key/values, linear layers, attention.
 */
import { attr, GraphBuilder } from '../../src/onnx/graph-builder.js';
import { DataType, encodeModel, type IGraphProto } from '../../src/onnx/proto.js';

export const F32 = DataType.FLOAT;
export const I64 = DataType.INT64;
export const BOOL = DataType.BOOL;

/** optimum's names for the dynamic axes of a decoder with past. */
export const DIMS = {
  batch: 'batch_size',
  seq: 'sequence_length',
  past: 'past_sequence_length',
  total: 'past_sequence_length + sequence_length',
} as const;

/** Added to masked attention scores: float32's lowest finite value, as transformers does. Finite, so a fully
 * masked row gives a uniform softmax instead of NaN. */
export const MASK_VALUE = -3.4028234663852886e38;

export function scalarInt64(b: GraphBuilder, value: number): string {
  return b.initInt64(b.fresh('scalar_i64'), [value], []);
}

/** Size of `axis` of `x` as an int64 scalar. */
export function dimOf(b: GraphBuilder, x: string, axis: number): string {
  return b.op('Gather', [b.op('Shape', [x]), scalarInt64(b, axis)], { axis: attr.int(0) });
}

/** Declares the standard decoder inputs: input_ids, attention_mask, position_ids, past_key_values.{i}.key/value. */
export function declareDecoderInputs(
  b: GraphBuilder,
  nLayers: number,
  kvHeads: number,
  headDim: number,
): { pastKeys: string[]; pastValues: string[] } {
  b.input('input_ids', I64, [DIMS.batch, DIMS.seq]);
  b.input('attention_mask', I64, [DIMS.batch, DIMS.total]);
  b.input('position_ids', I64, [DIMS.batch, DIMS.seq]);
  const pastKeys: string[] = [];
  const pastValues: string[] = [];
  for (let i = 0; i < nLayers; i++) {
    pastKeys.push(b.input(`past_key_values.${i}.key`, F32, [DIMS.batch, kvHeads, DIMS.past, headDim]));
    pastValues.push(b.input(`past_key_values.${i}.value`, F32, [DIMS.batch, kvHeads, DIMS.past, headDim]));
  }
  return { pastKeys, pastValues };
}

/** Declares the standard decoder outputs: logits, present.{i}.key/value (the present values must already exist). */
export function declareDecoderOutputs(
  b: GraphBuilder,
  nLayers: number,
  kvHeads: number,
  headDim: number,
  vocabSize: number,
): void {
  b.output('logits', F32, [DIMS.batch, DIMS.seq, vocabSize]);
  for (let l = 0; l < nLayers; l++) {
    b.output(`present.${l}.key`, F32, [DIMS.batch, kvHeads, DIMS.total, headDim]);
    b.output(`present.${l}.value`, F32, [DIMS.batch, kvHeads, DIMS.total, headDim]);
  }
}

/**
 * Additive attention mask [batch, 1, seq, past+seq]: 0 where query i (absolute position past+i) may attend key j
 * (j <= past+i and attention_mask[b, j] = 1), MASK_VALUE elsewhere.
 */
export function causalPaddingMask(b: GraphBuilder, pastKey0: string): string {
  const seq = dimOf(b, 'input_ids', 1);
  const past = dimOf(b, pastKey0, 2);
  const total = b.op('Add', [past, seq]);
  const zero = scalarInt64(b, 0);
  const one = scalarInt64(b, 1);
  const qPos = b.unsqueeze(b.op('Add', [b.op('Range', [zero, seq, one]), past]), [1]); // [S, 1]
  const kPos = b.unsqueeze(b.op('Range', [zero, total, one]), [0]); // [1, T]
  const causal = b.op('LessOrEqual', [kPos, qPos]); // [S, T]
  const keep = b.unsqueeze(b.cast('attention_mask', BOOL), [1, 2]); // [B, 1, 1, T]
  const allowed = b.op('And', [causal, keep]); // [B, 1, S, T]
  return b.op('Where', [allowed, b.constFloat(0), b.constFloat(MASK_VALUE)], undefined, 'attention_bias');
}

/** Transposes a row-major [rows, cols] matrix. */
export function transpose(w: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}

/** x [.., in] @ W^T for a PyTorch-layout weight W [out, in]; the initializer holds W^T [in, out]. */
export function linearOutIn(
  b: GraphBuilder,
  x: string,
  name: string,
  w: Float32Array,
  outF: number,
  inF: number,
  out?: string,
): string {
  const wt = b.initFloat(name, transpose(w, outF, inF), [inF, outF]);
  return b.op('MatMul', [x, wt], undefined, out);
}

/** [B, S, heads*hd] -> [B, heads, S, hd] */
export function splitHeads(b: GraphBuilder, x: string, heads: number, headDim: number): string {
  const r = b.op('Reshape', [x, b.constInt64([0, 0, heads, headDim])]);
  return b.op('Transpose', [r], { perm: attr.ints([0, 2, 1, 3]) });
}

/** [B, heads, S, hd] -> [B, S, heads*hd] */
export function mergeHeads(b: GraphBuilder, x: string, width: number): string {
  const t = b.op('Transpose', [x], { perm: attr.ints([0, 2, 1, 3]) });
  return b.op('Reshape', [t, b.constInt64([0, 0, width])]);
}

/** GQA: [B, kvHeads, T, hd] -> [B, kvHeads*rep, T, hd], kv head j serving query heads j*rep .. j*rep+rep-1. */
export function repeatKv(b: GraphBuilder, x: string, kvHeads: number, rep: number, headDim: number): string {
  if (rep === 1) return x;
  const u = b.unsqueeze(x, [2]); // [B, kv, 1, T, hd]
  const e = b.op('Expand', [u, b.constInt64([1, 1, rep, 1, 1])]); // [B, kv, rep, T, hd]
  return b.op('Reshape', [e, b.constInt64([0, kvHeads * rep, -1, headDim])]);
}

/** softmax(q k^T * scale + bias) v for q [B,H,S,hd], k/v [B,H,T,hd], bias [B,1,S,T]. */
export function attention(b: GraphBuilder, q: string, k: string, v: string, bias: string, headDim: number): string {
  const kt = b.op('Transpose', [k], { perm: attr.ints([0, 1, 3, 2]) });
  const scores = b.op('Mul', [b.op('MatMul', [q, kt]), b.constFloat(1 / Math.sqrt(headDim))]);
  const probs = b.op('Softmax', [b.op('Add', [scores, bias])], { axis: attr.int(-1) });
  return b.op('MatMul', [probs, v]);
}

export function encodeOnnxModel(graph: IGraphProto, opset: number, docString: string): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'tailguard',
    producerVersion: '0.1.0',
    docString,
    graph,
  });
}
