/**
 * Independent float64 reference for llama2.c checkpoints (legacy v0 format) and llama2.c's tokenizer.
 *
 * Written apart from the ONNX path on purpose: it parses the raw .bin files itself and follows
 * karpathy/llama2.c run.c step by step (one token at a time with a KV cache, interleaved RoPE using the
 * freq_cis tables stored in the checkpoint, GQA by `h / (n_heads / n_kv_heads)`, SwiGLU, rmsnorm eps 1e-5,
 * logits = classifier · x). Only the arithmetic is float64 instead of float32.
 */
import { readFileSync } from 'node:fs';
import { nllFromLogits } from './math.js';

export interface Llama2cConfig {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  /** true when the header's vocab_size is positive: classifier = token embedding. */
  sharedClassifier: boolean;
}

interface LayerWeights {
  rmsAtt: Float64Array; // [dim]
  wq: Float64Array; // [dim, dim]            (out, in)
  wk: Float64Array; // [kvDim, dim]
  wv: Float64Array; // [kvDim, dim]
  wo: Float64Array; // [dim, dim]
  rmsFfn: Float64Array; // [dim]
  w1: Float64Array; // [hidden, dim]
  w2: Float64Array; // [dim, hidden]
  w3: Float64Array; // [hidden, dim]
}

/** Reads little-endian float32 values one by one into float64 storage. */
class Reader {
  private pos: number;
  constructor(
    private readonly view: DataView,
    start: number,
  ) {
    this.pos = start;
  }
  floats(n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.view.getFloat32(this.pos + 4 * i, true);
    this.pos += 4 * n;
    return out;
  }
  get offset(): number {
    return this.pos;
  }
}

function rmsnorm(x: Float64Array, w: Float64Array): Float64Array {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i]! * x[i]!;
  ss = ss / x.length + 1e-5;
  const inv = 1 / Math.sqrt(ss);
  const o = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) o[i] = w[i]! * (inv * x[i]!);
  return o;
}

/** W [rows, cols] (row-major) times x [cols]. */
function matvec(w: Float64Array, x: Float64Array, rows: number, cols: number): Float64Array {
  const o = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const base = r * cols;
    for (let c = 0; c < cols; c++) s += w[base + c]! * x[c]!;
    o[r] = s;
  }
  return o;
}

/** log softmax in float64, stable (max-shifted log-sum-exp). */
export { logSoftmax } from './math.js';

export class Llama2cReference {
  readonly config: Llama2cConfig;
  private readonly tokenEmbedding: Float64Array; // [vocab, dim]
  private readonly layers: LayerWeights[] = [];
  private readonly rmsFinal: Float64Array;
  private readonly freqCisReal: Float64Array; // [seqLen, headSize/2]
  private readonly freqCisImag: Float64Array;
  private readonly wcls: Float64Array; // [vocab, dim]

  constructor(bytes: Uint8Array) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const h = Array.from({ length: 7 }, (_, i) => view.getInt32(4 * i, true));
    const [dim, hiddenDim, nLayers, nHeads, nKvHeads, rawVocab, seqLen] = h as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    this.config = {
      dim,
      hiddenDim,
      nLayers,
      nHeads,
      nKvHeads,
      vocabSize: Math.abs(rawVocab),
      seqLen,
      sharedClassifier: rawVocab > 0,
    };
    const V = Math.abs(rawVocab);
    const hs = dim / nHeads;
    const kvDim = (dim * nKvHeads) / nHeads;
    const r = new Reader(view, 28);
    this.tokenEmbedding = r.floats(V * dim);
    // The legacy format stores each kind of weight for all layers contiguously.
    const perLayer = (n: number): Float64Array[] => Array.from({ length: nLayers }, () => r.floats(n));
    const rmsAtt = perLayer(dim);
    const wq = perLayer(dim * dim);
    const wk = perLayer(kvDim * dim);
    const wv = perLayer(kvDim * dim);
    const wo = perLayer(dim * dim);
    const rmsFfn = perLayer(dim);
    const w1 = perLayer(hiddenDim * dim);
    const w2 = perLayer(dim * hiddenDim);
    const w3 = perLayer(hiddenDim * dim);
    for (let l = 0; l < nLayers; l++) {
      this.layers.push({
        rmsAtt: rmsAtt[l]!,
        wq: wq[l]!,
        wk: wk[l]!,
        wv: wv[l]!,
        wo: wo[l]!,
        rmsFfn: rmsFfn[l]!,
        w1: w1[l]!,
        w2: w2[l]!,
        w3: w3[l]!,
      });
    }
    this.rmsFinal = r.floats(dim);
    this.freqCisReal = r.floats((seqLen * hs) / 2);
    this.freqCisImag = r.floats((seqLen * hs) / 2);
    this.wcls = this.config.sharedClassifier ? this.tokenEmbedding : r.floats(V * dim);
    if (r.offset !== bytes.byteLength)
      throw new Error(`llama2c reference: ${bytes.byteLength - r.offset} trailing bytes (bad header?)`);
  }

  static fromFile(path: string): Llama2cReference {
    return new Llama2cReference(readFileSync(path));
  }

  /** Logits (float64) at every position of `ids`, as run.c's forward() called for pos = 0..n-1 in turn. */
  forwardLogits(ids: number[]): Float64Array[] {
    const { dim, vocabSize } = this.config;
    return this.finalHidden(ids).map((xf) => matvec(this.wcls, xf, vocabSize, dim));
  }

  /** The final-RMSNorm hidden state [dim] at every position (the input of the classifier). */
  finalHidden(ids: number[]): Float64Array[] {
    const { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen } = this.config;
    if (ids.length > seqLen) throw new Error(`sequence of ${ids.length} exceeds seq_len ${seqLen}`);
    const hs = dim / nHeads;
    const kvDim = (dim * nKvHeads) / nHeads;
    const kvMul = nHeads / nKvHeads;
    // KV cache: [layer][pos] -> Float64Array(kvDim)
    const keyCache: Float64Array[][] = Array.from({ length: nLayers }, () => []);
    const valueCache: Float64Array[][] = Array.from({ length: nLayers }, () => []);
    const out: Float64Array[] = [];
    for (let pos = 0; pos < ids.length; pos++) {
      const token = ids[pos]!;
      if (!(token >= 0 && token < vocabSize)) throw new Error(`token id ${token} out of range`);
      const x = this.tokenEmbedding.slice(token * dim, (token + 1) * dim);
      for (let l = 0; l < nLayers; l++) {
        const w = this.layers[l]!;
        const xb = rmsnorm(x, w.rmsAtt);
        const q = matvec(w.wq, xb, dim, dim);
        const k = matvec(w.wk, xb, kvDim, dim);
        const v = matvec(w.wv, xb, kvDim, dim);
        // RoPE: rotate interleaved pairs (i, i+1) of each head by the stored freq_cis row for pos.
        const rot = (vec: Float64Array, n: number): void => {
          for (let i = 0; i < n; i += 2) {
            const hi = i % hs;
            const fcr = this.freqCisReal[pos * (hs / 2) + hi / 2]!;
            const fci = this.freqCisImag[pos * (hs / 2) + hi / 2]!;
            const v0 = vec[i]!;
            const v1 = vec[i + 1]!;
            vec[i] = v0 * fcr - v1 * fci;
            vec[i + 1] = v0 * fci + v1 * fcr;
          }
        };
        rot(q, dim);
        rot(k, kvDim);
        keyCache[l]!.push(k);
        valueCache[l]!.push(v);
        const att = new Float64Array(dim);
        for (let h = 0; h < nHeads; h++) {
          const kvOff = Math.floor(h / kvMul) * hs;
          const scores = new Float64Array(pos + 1);
          let max = -Infinity;
          for (let t = 0; t <= pos; t++) {
            const kt = keyCache[l]![t]!;
            let s = 0;
            for (let i = 0; i < hs; i++) s += q[h * hs + i]! * kt[kvOff + i]!;
            s /= Math.sqrt(hs);
            scores[t] = s;
            if (s > max) max = s;
          }
          let sum = 0;
          for (let t = 0; t <= pos; t++) {
            scores[t] = Math.exp(scores[t]! - max);
            sum += scores[t]!;
          }
          for (let t = 0; t <= pos; t++) {
            const a = scores[t]! / sum;
            const vt = valueCache[l]![t]!;
            for (let i = 0; i < hs; i++) att[h * hs + i] = att[h * hs + i]! + a * vt[kvOff + i]!;
          }
        }
        const o = matvec(w.wo, att, dim, dim);
        for (let i = 0; i < dim; i++) x[i] = x[i]! + o[i]!;
        const xb2 = rmsnorm(x, w.rmsFfn);
        const hb = matvec(w.w1, xb2, hiddenDim, dim);
        const hb2 = matvec(w.w3, xb2, hiddenDim, dim);
        for (let i = 0; i < hiddenDim; i++) {
          const g = hb[i]!;
          hb[i] = (g / (1 + Math.exp(-g))) * hb2[i]!; // silu(w1 x) * (w3 x)
        }
        const f = matvec(w.w2, hb, dim, hiddenDim);
        for (let i = 0; i < dim; i++) x[i] = x[i]! + f[i]!;
      }
      out.push(rmsnorm(x, this.rmsFinal));
    }
    return out;
  }

  /** -log p(ids[t+1] | ids[..t]) for t = 0..n-2 (float64). */
  nllPerToken(ids: number[]): number[] {
    return nllFromLogits(this.forwardLogits(ids), ids);
  }

  /** exp(mean nll) over every scored token. */
  perplexity(ids: number[]): number {
    const nll = this.nllPerToken(ids);
    return Math.exp(nll.reduce((a, b) => a + b, 0) / nll.length);
  }
}

export const BOS_ID = 1;
export const EOS_ID = 2;

/**
 * llama2.c's tokenizer (tok*.bin) with run.c's encode(): dummy-prefix " ", per-codepoint vocab lookup with byte
 * fallback (byte + 3), then greedy merging of the adjacent pair with the highest-scoring concatenation (the first
 * such pair on ties). No BOS/EOS: the caller adds BOS.
 */
export class Llama2cTokenizer {
  readonly vocab: string[] = [];
  readonly scores: number[] = [];
  readonly maxTokenLength: number;
  private readonly lookup = new Map<string, number>();

  constructor(bytes: Uint8Array, vocabSize: number) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const dec = new TextDecoder('utf-8');
    this.maxTokenLength = view.getInt32(0, true);
    let p = 4;
    for (let i = 0; i < vocabSize; i++) {
      this.scores.push(view.getFloat32(p, true));
      const len = view.getInt32(p + 4, true);
      p += 8;
      const piece = dec.decode(bytes.subarray(p, p + len));
      p += len;
      this.vocab.push(piece);
      // run.c uses bsearch over the sorted vocab; pieces are unique in practice, keep the first on a clash.
      if (!this.lookup.has(piece)) this.lookup.set(piece, i);
    }
    if (p !== bytes.byteLength) throw new Error(`llama2c tokenizer: ${bytes.byteLength - p} trailing bytes`);
  }

  static fromFile(path: string, vocabSize = 512): Llama2cTokenizer {
    return new Llama2cTokenizer(readFileSync(path), vocabSize);
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  private find(s: string): number {
    return this.lookup.get(s) ?? -1;
  }

  encode(text: string): number[] {
    const bytes = new TextEncoder().encode(text);
    const tokens: number[] = [];
    if (bytes.length > 0) tokens.push(this.find(' '));
    // Byte loop of run.c: gather a codepoint (lead byte + up to 3 continuation bytes), look it up, else bytes.
    let buf: number[] = [];
    const dec = new TextDecoder('utf-8');
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i]!;
      if ((c & 0xc0) !== 0x80) buf = [];
      buf.push(c);
      const next = i + 1 < bytes.length ? bytes[i + 1]! : 0;
      if ((next & 0xc0) === 0x80 && buf.length < 4) continue;
      const id = this.find(dec.decode(Uint8Array.from(buf)));
      if (id !== -1) tokens.push(id);
      else for (const b of buf) tokens.push(b + 3);
      buf = [];
    }
    // Greedy merges.
    for (;;) {
      let bestScore = -1e10;
      let bestId = -1;
      let bestIdx = -1;
      for (let i = 0; i + 1 < tokens.length; i++) {
        const id = this.find(this.vocab[tokens[i]!]! + this.vocab[tokens[i + 1]!]!);
        if (id !== -1 && this.scores[id]! > bestScore) {
          bestScore = this.scores[id]!;
          bestId = id;
          bestIdx = i;
        }
      }
      if (bestIdx === -1) break;
      tokens.splice(bestIdx, 2, bestId);
    }
    return tokens;
  }

  /** Concatenated pieces (byte fallbacks turned back into bytes), without the dummy-prefix space. */
  decode(ids: number[]): string {
    const bytes: number[] = [];
    const enc = new TextEncoder();
    ids.forEach((id, i) => {
      if (id >= 3 && id <= 258) {
        bytes.push(id - 3);
        return;
      }
      const stored = this.vocab[id];
      if (stored === undefined) throw new Error(`token id ${id} out of range`);
      let piece = id === BOS_ID ? '<s>' : id === EOS_ID ? '</s>' : stored;
      if (i === 0 && piece.startsWith(' ')) piece = piece.slice(1);
      bytes.push(...enc.encode(piece));
    });
    return new TextDecoder().decode(Uint8Array.from(bytes));
  }
}
