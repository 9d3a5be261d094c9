/**
 * A bench-only Llama of realistic size with RANDOM weights, written by the same ONNX builder the
 * llama2.c converter uses (scripts/lib/llama-onnx.ts). Its scores mean nothing; its cost per token is
 * what a real fp32 model of this shape costs, which is all a throughput bench needs.
 *
 * The directory gets config.json and a copy of stories260k's tokenizer files: that tokenizer only
 * produces ids < 512, and every id < 512 is a valid row of a larger vocabulary, so the model accepts
 * its output (the upper rows of the embedding are never looked up, but the logits still span the
 * whole vocabulary, which is what makes the logits-out-of-the-runtime cost realistic).
 */
import { copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildLlamaOnnx } from '../scripts/lib/llama-onnx.js';
import type { Llama2cCheckpoint, Llama2cLayer } from '../scripts/lib/llama2c-format.js';
import { writeBytes, writeJson } from '../scripts/lib/files.js';
import { Prng } from '../scripts/lib/prng.js';

export interface RandomLlamaShape {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  vocab: number;
  context: number;
  seed: number;
}

export const BENCH_LLAMA: RandomLlamaShape = {
  hidden: 512,
  layers: 8,
  heads: 8,
  kvHeads: 4,
  intermediate: 1376,
  vocab: 16384,
  context: 512,
  seed: 20240611,
};

/** Distinct parameters (the classifier is tied to the embedding, as in stories260k). */
export function parameterCount(s: RandomLlamaShape): number {
  const headDim = s.hidden / s.heads;
  const kvDim = headDim * s.kvHeads;
  const perLayer = 2 * s.hidden + 2 * s.hidden * s.hidden + 2 * kvDim * s.hidden + 3 * s.intermediate * s.hidden;
  return s.vocab * s.hidden + s.layers * perLayer + s.hidden;
}

export function writeRandomLlama(
  dir: string,
  s: RandomLlamaShape,
  tokenizerFrom: string,
): { params: number; onnxBytes: number } {
  const rng = new Prng(s.seed);
  const std = 0.02; // transformers' initializer_range
  const headSize = s.hidden / s.heads;
  const kvDim = headSize * s.kvHeads;
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);
  const layers: Llama2cLayer[] = Array.from({ length: s.layers }, () => ({
    rmsAtt: ones(s.hidden),
    wq: rng.normals(s.hidden * s.hidden, std),
    wk: rng.normals(kvDim * s.hidden, std),
    wv: rng.normals(kvDim * s.hidden, std),
    wo: rng.normals(s.hidden * s.hidden, std),
    rmsFfn: ones(s.hidden),
    w1: rng.normals(s.intermediate * s.hidden, std),
    w2: rng.normals(s.hidden * s.intermediate, std),
    w3: rng.normals(s.intermediate * s.hidden, std),
  }));
  const ck: Llama2cCheckpoint = {
    config: {
      dim: s.hidden,
      hiddenDim: s.intermediate,
      nLayers: s.layers,
      nHeads: s.heads,
      nKvHeads: s.kvHeads,
      vocabSize: s.vocab,
      seqLen: s.context,
      sharedClassifier: true,
      headSize,
      kvDim,
    },
    tokenEmbedding: rng.normals(s.vocab * s.hidden, std),
    layers,
    rmsFinal: ones(s.hidden),
    // Only the converter's RoPE check reads the llama2.c tables; the graph computes RoPE from position_ids.
    freqCisReal: new Float32Array(0),
    freqCisImag: new Float32Array(0),
  };
  const onnx = buildLlamaOnnx(ck, { ropeTheta: 10000, rmsNormEps: 1e-5 });
  writeBytes(join(dir, 'onnx', 'model.onnx'), onnx);
  writeJson(join(dir, 'config.json'), {
    architectures: ['LlamaForCausalLM'],
    bos_token_id: 1,
    eos_token_id: 2,
    head_dim: headSize,
    hidden_act: 'silu',
    hidden_size: s.hidden,
    intermediate_size: s.intermediate,
    max_position_embeddings: s.context,
    model_type: 'llama',
    num_attention_heads: s.heads,
    num_hidden_layers: s.layers,
    num_key_value_heads: s.kvHeads,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: true,
    torch_dtype: 'float32',
    vocab_size: s.vocab,
    _comment: 'tailguard bench: random weights, NOT a language model',
  });
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'])
    copyFileSync(join(tokenizerFrom, f), join(dir, f));
  return { params: parameterCount(s), onnxBytes: statSync(join(dir, 'onnx', 'model.onnx')).size };
}
