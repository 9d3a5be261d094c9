/**
 * Writes a llama2.c checkpoint as an fp32 ONNX graph with the interface of an optimum / transformers.js export of
 * LlamaForCausalLM (decoder with past):
 *   inputs  input_ids [B,S] i64, attention_mask [B,P+S] i64, position_ids [B,S] i64,
 *           past_key_values.{i}.key / .value [B, n_kv_heads, P, head_dim] f32
 *   outputs logits [B,S,vocab] f32, present.{i}.key / .value [B, n_kv_heads, P+S, head_dim] f32,
 *           last_hidden_state [B,S,dim] f32 (the final RMSNorm's output, which the classifier reads)
 * Internally it follows transformers' Llama: RoPE on halves (rotate_half) with cos/sin computed from position_ids
 * and inv_freq, so wq/wk rows are permuted per head from llama2.c's interleaved layout (HF's
 * convert_llama_weights_to_hf.py `permute`).
 */
import { attr, GraphBuilder } from '../../src/onnx/graph-builder.js';
import type { Llama2cCheckpoint } from './llama2c-format.js';
import type { NamedTensor } from './safetensors.js';
import {
  attention,
  causalPaddingMask,
  declareDecoderInputs,
  declareDecoderOutputs,
  DIMS,
  encodeOnnxModel,
  F32,
  linearOutIn,
  mergeHeads,
  repeatKv,
  splitHeads,
  transpose,
} from './onnx-util.js';

export const LLAMA_OPSET = 17;

/**
 * HF's permute(w, n_heads, dim1, dim2): w.view(n_heads, dim1/n_heads/2, 2, dim2).transpose(1, 2).reshape(dim1, dim2).
 * Row h*hd + 2i + j (interleaved pair i, member j) moves to row h*hd + j*hd/2 + i (halves).
 */
export function permuteRotaryRows(w: Float32Array, nHeads: number, rows: number, cols: number): Float32Array {
  const hd = rows / nHeads;
  const half = hd / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const src = h * hd + 2 * i + j;
        const dst = h * hd + j * half + i;
        out.set(w.subarray(src * cols, (src + 1) * cols), dst * cols);
      }
    }
  }
  return out;
}

/**
 * The checkpoint under transformers' LlamaForCausalLM parameter names ([out, in] like nn.Linear, q/k rows in the
 * halves layout), as model.safetensors holds it. A tied classifier is not stored (transformers re-ties lm_head).
 */
export function hfLlamaTensors(ck: Llama2cCheckpoint): NamedTensor[] {
  const { dim, hiddenDim, nHeads, nKvHeads, vocabSize, kvDim } = ck.config;
  const t = (name: string, shape: number[], data: Float32Array): NamedTensor => ({ name, shape, data });
  const out = [t('model.embed_tokens.weight', [vocabSize, dim], ck.tokenEmbedding)];
  ck.layers.forEach((L, l) => {
    const p = `model.layers.${l}`;
    out.push(
      t(`${p}.input_layernorm.weight`, [dim], L.rmsAtt),
      t(`${p}.self_attn.q_proj.weight`, [dim, dim], permuteRotaryRows(L.wq, nHeads, dim, dim)),
      t(`${p}.self_attn.k_proj.weight`, [kvDim, dim], permuteRotaryRows(L.wk, nKvHeads, kvDim, dim)),
      t(`${p}.self_attn.v_proj.weight`, [kvDim, dim], L.wv),
      t(`${p}.self_attn.o_proj.weight`, [dim, dim], L.wo),
      t(`${p}.post_attention_layernorm.weight`, [dim], L.rmsFfn),
      t(`${p}.mlp.gate_proj.weight`, [hiddenDim, dim], L.w1),
      t(`${p}.mlp.up_proj.weight`, [hiddenDim, dim], L.w3),
      t(`${p}.mlp.down_proj.weight`, [dim, hiddenDim], L.w2),
    );
  });
  out.push(t('model.norm.weight', [dim], ck.rmsFinal));
  if (ck.wcls) out.push(t('lm_head.weight', [vocabSize, dim], ck.wcls));
  return out;
}

/** inv_freq[i] = 1 / theta^(2i/head_dim), as transformers computes it (then stored as float32). */
export function invFreq(headDim: number, theta: number): Float32Array {
  return Float32Array.from({ length: headDim / 2 }, (_, i) => 1 / Math.pow(theta, (2 * i) / headDim));
}

/**
 * Checks that the stored freq_cis tables are cos/sin(pos * theta^(-2i/head_dim)). Returns the largest deviation;
 * throws when it exceeds `tol` (float32 rounding of pos*freq at pos 511 stays far below 1e-3).
 */
export function verifyRopeTheta(ck: Llama2cCheckpoint, theta: number, tol = 1e-3): number {
  const { seqLen, headSize } = ck.config;
  const half = headSize / 2;
  let worst = 0;
  for (let pos = 0; pos < seqLen; pos++) {
    for (let i = 0; i < half; i++) {
      const angle = pos * Math.pow(theta, (-2 * i) / headSize);
      const dr = Math.abs(Math.cos(angle) - ck.freqCisReal[pos * half + i]!);
      const di = Math.abs(Math.sin(angle) - ck.freqCisImag[pos * half + i]!);
      worst = Math.max(worst, dr, di);
    }
  }
  if (!(worst <= tol)) {
    throw new Error(
      `the checkpoint's freq_cis tables do not match rope_theta=${theta} (max deviation ${worst.toExponential(3)}); refusing to convert`,
    );
  }
  return worst;
}

function rmsNorm(b: GraphBuilder, x: string, name: string, w: Float32Array, eps: number): string {
  const ms = b.reduce('ReduceMean', b.op('Mul', [x, x]), [-1], true);
  const inv = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [ms, b.constFloat(eps)])])]);
  return b.op('Mul', [b.op('Mul', [x, inv]), b.initFloat(name, new Float32Array(w), [w.length])]);
}

/** x * cos + rotate_half(x) * sin, rotate_half(x) = concat(-x[..., hd/2:], x[..., :hd/2]). */
function applyRope(b: GraphBuilder, x: string, cos: string, sin: string, headDim: number): string {
  const half = headDim / 2;
  const [x1, x2] = b.node('Split', [x, b.constInt64([half, half])], { attrs: { axis: attr.int(-1) }, outputs: 2 }) as [
    string,
    string,
  ];
  const rotated = b.op('Concat', [b.op('Neg', [x2]), x1], { axis: attr.int(-1) });
  return b.op('Add', [b.op('Mul', [x, cos]), b.op('Mul', [rotated, sin])]);
}

export interface LlamaOnnxOptions {
  ropeTheta: number;
  rmsNormEps: number;
}

export function buildLlamaOnnx(ck: Llama2cCheckpoint, opts: LlamaOnnxOptions): Uint8Array {
  const { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, headSize, kvDim } = ck.config;
  const b = new GraphBuilder(LLAMA_OPSET);
  const { pastKeys, pastValues } = declareDecoderInputs(b, nLayers, nKvHeads, headSize);

  const embed = b.initFloat('model.embed_tokens.weight', new Float32Array(ck.tokenEmbedding), [vocabSize, dim]);
  let h = b.op('Gather', [embed, 'input_ids'], { axis: attr.int(0) }); // [B, S, D]

  const bias = causalPaddingMask(b, pastKeys[0]!);

  // Rotary tables from position_ids: cos/sin of cat(freqs, freqs), freqs = position * inv_freq. [B, 1, S, hd]
  const invFreqName = b.initFloat('model.rotary_emb.inv_freq', invFreq(headSize, opts.ropeTheta), [headSize / 2]);
  const pos = b.unsqueeze(b.cast('position_ids', F32), [2]); // [B, S, 1]
  const freqs = b.op('Mul', [pos, invFreqName]); // [B, S, hd/2]
  const emb = b.op('Concat', [freqs, freqs], { axis: attr.int(-1) });
  const cos = b.unsqueeze(b.op('Cos', [emb]), [1]);
  const sin = b.unsqueeze(b.op('Sin', [emb]), [1]);

  for (let l = 0; l < nLayers; l++) {
    const L = ck.layers[l]!;
    const p = `model.layers.${l}`;
    const xn = rmsNorm(b, h, `${p}.input_layernorm.weight`, L.rmsAtt, opts.rmsNormEps);
    const wq = permuteRotaryRows(L.wq, nHeads, dim, dim);
    const wk = permuteRotaryRows(L.wk, nKvHeads, kvDim, dim);
    const q = applyRope(
      b,
      splitHeads(b, linearOutIn(b, xn, `${p}.self_attn.q_proj.weight_transposed`, wq, dim, dim), nHeads, headSize),
      cos,
      sin,
      headSize,
    );
    const k = applyRope(
      b,
      splitHeads(b, linearOutIn(b, xn, `${p}.self_attn.k_proj.weight_transposed`, wk, kvDim, dim), nKvHeads, headSize),
      cos,
      sin,
      headSize,
    );
    const v = splitHeads(
      b,
      linearOutIn(b, xn, `${p}.self_attn.v_proj.weight_transposed`, L.wv, kvDim, dim),
      nKvHeads,
      headSize,
    );
    const presentK = b.op('Concat', [pastKeys[l]!, k], { axis: attr.int(2) }, `present.${l}.key`);
    const presentV = b.op('Concat', [pastValues[l]!, v], { axis: attr.int(2) }, `present.${l}.value`);
    const rep = nHeads / nKvHeads;
    const ctx = attention(
      b,
      q,
      repeatKv(b, presentK, nKvHeads, rep, headSize),
      repeatKv(b, presentV, nKvHeads, rep, headSize),
      bias,
      headSize,
    );
    const attnOut = linearOutIn(b, mergeHeads(b, ctx, dim), `${p}.self_attn.o_proj.weight_transposed`, L.wo, dim, dim);
    h = b.op('Add', [h, attnOut]);

    const xn2 = rmsNorm(b, h, `${p}.post_attention_layernorm.weight`, L.rmsFfn, opts.rmsNormEps);
    const gate = linearOutIn(b, xn2, `${p}.mlp.gate_proj.weight_transposed`, L.w1, hiddenDim, dim);
    const up = linearOutIn(b, xn2, `${p}.mlp.up_proj.weight_transposed`, L.w3, hiddenDim, dim);
    const act = b.op('Mul', [b.op('Mul', [gate, b.op('Sigmoid', [gate])]), up]);
    h = b.op('Add', [h, linearOutIn(b, act, `${p}.mlp.down_proj.weight_transposed`, L.w2, dim, hiddenDim)]);
  }

  const hidden = rmsNorm(b, h, 'model.norm.weight', ck.rmsFinal, opts.rmsNormEps);
  // The logits projection: MatMul(final hidden [B,S,D], W^T [D,V]). A tied classifier is Transpose(embedding), which
  // ONNX Runtime folds into a constant when the session starts: the file holds the [V, D] table once.
  const lmHead = ck.wcls
    ? b.initFloat('lm_head.weight_transposed', transpose(ck.wcls, vocabSize, dim), [dim, vocabSize])
    : b.op('Transpose', [embed], { perm: attr.ints([1, 0]) });
  b.op('MatMul', [hidden, lmHead], undefined, 'logits');
  // The final hidden states (after the last RMSNorm: what the classifier reads) as an output of their own.
  b.op('Identity', [hidden], undefined, 'last_hidden_state');

  declareDecoderOutputs(b, nLayers, nKvHeads, headSize, vocabSize);
  b.output('last_hidden_state', F32, [DIMS.batch, DIMS.seq, dim]);
  return encodeOnnxModel(
    b.toGraph('llama2c_to_llama'),
    LLAMA_OPSET,
    'LlamaForCausalLM (decoder with past) converted from a llama2.c checkpoint by tailguard scripts/convert-llama2c.ts',
  );
}
