/**
 * GPT-2 (GPT2LMHeadModel) as an fp32 ONNX graph with the optimum decoder-with-past interface:
 *   inputs  input_ids [B,S] i64, attention_mask [B,P+S] i64, position_ids [B,S] i64,
 *           past_key_values.{i}.key / .value [B, n_head, P, head_dim] f32
 *   outputs logits [B,S,vocab] f32, present.{i}.key / .value [B, n_head, P+S, head_dim] f32
 * Learned position embeddings, pre-LayerNorm blocks, fused c_attn (one MatMul + Split), gelu_new (tanh
 * approximation), final ln_f, logits = MatMul(ln_f output, wte^T).
 * Weights use transformers' GPT-2 names and Conv1D layout ([in, out], y = x W + b).
 */
import { attr, GraphBuilder } from '../../src/onnx/graph-builder.js';
import {
  attention,
  causalPaddingMask,
  declareDecoderInputs,
  declareDecoderOutputs,
  encodeOnnxModel,
  mergeHeads,
  splitHeads,
  transpose,
} from './onnx-util.js';

export const GPT2_OPSET = 18;

export interface Gpt2Config {
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  layerNormEpsilon: number;
}

/** name -> { data, shape } in transformers' GPT-2 state-dict naming. */
export type Gpt2Weights = Map<string, { data: Float32Array; shape: number[] }>;

function weight(w: Gpt2Weights, name: string): { data: Float32Array; shape: number[] } {
  const t = w.get(name);
  if (!t) throw new Error(`missing weight ${name}`);
  return t;
}

export function buildGpt2Onnx(cfg: Gpt2Config, w: Gpt2Weights): Uint8Array {
  const { vocabSize, nEmbd: D, nLayer, nHead } = cfg;
  const hd = D / nHead;
  const b = new GraphBuilder(GPT2_OPSET);
  const init = (name: string) => {
    const t = weight(w, name);
    return b.initFloat(name, t.data, t.shape);
  };
  const { pastKeys, pastValues } = declareDecoderInputs(b, nLayer, nHead, hd);

  const wte = init('transformer.wte.weight');
  const wpe = init('transformer.wpe.weight');
  let h = b.op('Add', [
    b.op('Gather', [wte, 'input_ids'], { axis: attr.int(0) }),
    b.op('Gather', [wpe, 'position_ids'], { axis: attr.int(0) }),
  ]);
  const bias = causalPaddingMask(b, pastKeys[0]!);

  const layerNorm = (x: string, prefix: string) =>
    b.op('LayerNormalization', [x, init(`${prefix}.weight`), init(`${prefix}.bias`)], {
      axis: attr.int(-1),
      epsilon: attr.float(cfg.layerNormEpsilon),
    });
  const conv1d = (x: string, prefix: string) =>
    b.op('Add', [b.op('MatMul', [x, init(`${prefix}.weight`)]), init(`${prefix}.bias`)]);

  for (let l = 0; l < nLayer; l++) {
    const p = `transformer.h.${l}`;
    const a = layerNorm(h, `${p}.ln_1`);
    const qkv = conv1d(a, `${p}.attn.c_attn`); // [B, S, 3D]
    const [q, k, v] = b.node('Split', [qkv, b.constInt64([D, D, D])], {
      attrs: { axis: attr.int(-1) },
      outputs: 3,
    }) as [string, string, string];
    const presentK = b.op(
      'Concat',
      [pastKeys[l]!, splitHeads(b, k, nHead, hd)],
      { axis: attr.int(2) },
      `present.${l}.key`,
    );
    const presentV = b.op(
      'Concat',
      [pastValues[l]!, splitHeads(b, v, nHead, hd)],
      { axis: attr.int(2) },
      `present.${l}.value`,
    );
    const ctx = attention(b, splitHeads(b, q, nHead, hd), presentK, presentV, bias, hd);
    h = b.op('Add', [h, conv1d(mergeHeads(b, ctx, D), `${p}.attn.c_proj`)]);

    const m = layerNorm(h, `${p}.ln_2`);
    const f = conv1d(m, `${p}.mlp.c_fc`);
    // gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    const cube = b.op('Mul', [b.op('Mul', [f, f]), f]);
    const inner = b.op('Mul', [
      b.op('Add', [f, b.op('Mul', [cube, b.constFloat(0.044715)])]),
      b.constFloat(Math.sqrt(2 / Math.PI)),
    ]);
    const gelu = b.op('Mul', [
      b.op('Mul', [f, b.constFloat(0.5)]),
      b.op('Add', [b.op('Tanh', [inner]), b.constFloat(1)]),
    ]);
    h = b.op('Add', [h, conv1d(gelu, `${p}.mlp.c_proj`)]);
  }
  const hidden = layerNorm(h, 'transformer.ln_f');
  const wteT = b.initFloat(
    'lm_head.weight_transposed',
    transpose(weight(w, 'transformer.wte.weight').data, vocabSize, D),
    [D, vocabSize],
  );
  b.op('MatMul', [hidden, wteT], undefined, 'logits');

  declareDecoderOutputs(b, nLayer, nHead, hd, vocabSize);
  return encodeOnnxModel(
    b.toGraph('tiny_gpt2'),
    GPT2_OPSET,
    'GPT2LMHeadModel (decoder with past), random weights, written by tailguard scripts/make-tiny-gpt2.ts',
  );
}
