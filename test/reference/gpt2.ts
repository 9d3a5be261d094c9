/**
 * Independent float64 GPT-2 forward pass over the raw weights of test/fixtures/tiny-gpt2
 * (reference-weights.json + reference-weights.bin), written apart from the ONNX path. transformers' GPT-2:
 * h = wte[ids] + wpe[pos]; per block h += attn(ln_1(h)); h += mlp(ln_2(h)) with gelu_new; logits = ln_f(h) · wte^T.
 * Conv1D weights are [in, out] (y = x W + b).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nllFromLogits } from './math.js';

export interface Gpt2RefConfig {
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  layerNormEpsilon: number;
}

interface Manifest {
  bin: string;
  config: {
    vocab_size: number;
    n_positions: number;
    n_embd: number;
    n_layer: number;
    n_head: number;
    layer_norm_epsilon: number;
  };
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
}

/** Row-major matrix [rows, cols]. */
interface Mat {
  data: Float64Array;
  rows: number;
  cols: number;
}

function layerNorm(x: Float64Array, g: Float64Array, b: Float64Array, eps: number): Float64Array {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i]! - mean) ** 2;
  v /= n;
  const inv = 1 / Math.sqrt(v + eps);
  const o = new Float64Array(n);
  for (let i = 0; i < n; i++) o[i] = (x[i]! - mean) * inv * g[i]! + b[i]!;
  return o;
}

/** x [in] · W [in, out] + bias [out] */
function conv1d(x: Float64Array, w: Mat, bias: Float64Array): Float64Array {
  const o = Float64Array.from(bias);
  for (let i = 0; i < w.rows; i++) {
    const xi = x[i]!;
    const base = i * w.cols;
    for (let j = 0; j < w.cols; j++) o[j] = o[j]! + xi * w.data[base + j]!;
  }
  return o;
}

function geluNew(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

export class Gpt2Reference {
  readonly config: Gpt2RefConfig;
  private readonly t = new Map<string, Mat>();

  constructor(manifest: Manifest, bin: Uint8Array) {
    const c = manifest.config;
    this.config = {
      vocabSize: c.vocab_size,
      nPositions: c.n_positions,
      nEmbd: c.n_embd,
      nLayer: c.n_layer,
      nHead: c.n_head,
      layerNormEpsilon: c.layer_norm_epsilon,
    };
    const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
    for (const e of manifest.tensors) {
      const data = new Float64Array(e.length);
      for (let i = 0; i < e.length; i++) data[i] = view.getFloat32(4 * (e.offset + i), true);
      const rows = e.shape.length === 2 ? e.shape[0]! : 1;
      this.t.set(e.name, { data, rows, cols: e.shape[e.shape.length - 1]! });
    }
  }

  /** Loads test/fixtures/tiny-gpt2-style raw weights from `dir`. */
  static fromDir(dir: string): Gpt2Reference {
    const manifest = JSON.parse(readFileSync(join(dir, 'reference-weights.json'), 'utf8')) as Manifest;
    return new Gpt2Reference(manifest, readFileSync(join(dir, manifest.bin)));
  }

  private m(name: string): Mat {
    const x = this.t.get(name);
    if (!x) throw new Error(`missing tensor ${name}`);
    return x;
  }

  private v(name: string): Float64Array {
    return this.m(name).data;
  }

  /** Logits at every position of `ids` (positions 0..n-1), one causal pass, float64. */
  forwardLogits(ids: number[]): Float64Array[] {
    const { nEmbd: D, nLayer, nHead, nPositions, vocabSize, layerNormEpsilon: eps } = this.config;
    const hd = D / nHead;
    const n = ids.length;
    if (n > nPositions) throw new Error(`sequence of ${n} exceeds n_positions ${nPositions}`);
    const wte = this.m('transformer.wte.weight');
    const wpe = this.m('transformer.wpe.weight');
    let hs: Float64Array[] = ids.map((id, p) => {
      if (!(id >= 0 && id < vocabSize)) throw new Error(`token id ${id} out of range`);
      const x = new Float64Array(D);
      for (let i = 0; i < D; i++) x[i] = wte.data[id * D + i]! + wpe.data[p * D + i]!;
      return x;
    });
    for (let l = 0; l < nLayer; l++) {
      const p = `transformer.h.${l}`;
      const qkv = hs.map((h) =>
        conv1d(
          layerNorm(h, this.v(`${p}.ln_1.weight`), this.v(`${p}.ln_1.bias`), eps),
          this.m(`${p}.attn.c_attn.weight`),
          this.v(`${p}.attn.c_attn.bias`),
        ),
      );
      const ctx = hs.map(() => new Float64Array(D));
      for (let head = 0; head < nHead; head++) {
        const qo = head * hd;
        const ko = D + head * hd;
        const vo = 2 * D + head * hd;
        for (let i = 0; i < n; i++) {
          const scores = new Float64Array(i + 1);
          let max = -Infinity;
          for (let j = 0; j <= i; j++) {
            let s = 0;
            for (let d = 0; d < hd; d++) s += qkv[i]![qo + d]! * qkv[j]![ko + d]!;
            scores[j] = s / Math.sqrt(hd);
            max = Math.max(max, scores[j]!);
          }
          let sum = 0;
          for (let j = 0; j <= i; j++) {
            scores[j] = Math.exp(scores[j]! - max);
            sum += scores[j]!;
          }
          for (let j = 0; j <= i; j++) {
            const a = scores[j]! / sum;
            for (let d = 0; d < hd; d++) ctx[i]![qo + d] = ctx[i]![qo + d]! + a * qkv[j]![vo + d]!;
          }
        }
      }
      hs = hs.map((h, i) => {
        const attnOut = conv1d(ctx[i]!, this.m(`${p}.attn.c_proj.weight`), this.v(`${p}.attn.c_proj.bias`));
        const h1 = h.map((x, k) => x + attnOut[k]!);
        const f = conv1d(
          layerNorm(h1, this.v(`${p}.ln_2.weight`), this.v(`${p}.ln_2.bias`), eps),
          this.m(`${p}.mlp.c_fc.weight`),
          this.v(`${p}.mlp.c_fc.bias`),
        ).map(geluNew);
        const mlpOut = conv1d(f, this.m(`${p}.mlp.c_proj.weight`), this.v(`${p}.mlp.c_proj.bias`));
        return h1.map((x, k) => x + mlpOut[k]!);
      });
    }
    return hs.map((h) => {
      const x = layerNorm(h, this.v('transformer.ln_f.weight'), this.v('transformer.ln_f.bias'), eps);
      const logits = new Float64Array(vocabSize);
      for (let t = 0; t < vocabSize; t++) {
        let s = 0;
        for (let i = 0; i < D; i++) s += x[i]! * wte.data[t * D + i]!;
        logits[t] = s;
      }
      return logits;
    });
  }

  /** -log p(ids[t+1] | ids[..t]) for t = 0..n-2 (float64, log-sum-exp stable). */
  nllPerToken(ids: number[]): number[] {
    return nllFromLogits(this.forwardLogits(ids), ids);
  }
}
