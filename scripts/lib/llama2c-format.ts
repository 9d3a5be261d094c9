/**
 * Readers for llama2.c's files, used by scripts/convert-llama2c.ts:
 * - the legacy (v0) checkpoint: 7 int32 header, then float32 weights ([out, in] like nn.Linear);
 * - the tokenizer (tok*.bin): int32 max_token_length, then per token float32 score, int32 length, bytes.
 * (test/reference/llama2c.ts has its own, independent reader.)
 */
import { endianness } from 'node:os';

export interface Llama2cConfig {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  sharedClassifier: boolean;
  headSize: number;
  kvDim: number;
}

export interface Llama2cLayer {
  rmsAtt: Float32Array;
  wq: Float32Array; // [dim, dim]
  wk: Float32Array; // [kvDim, dim]
  wv: Float32Array; // [kvDim, dim]
  wo: Float32Array; // [dim, dim]
  rmsFfn: Float32Array;
  w1: Float32Array; // [hidden, dim]
  w2: Float32Array; // [dim, hidden]
  w3: Float32Array; // [hidden, dim]
}

export interface Llama2cCheckpoint {
  config: Llama2cConfig;
  tokenEmbedding: Float32Array; // [vocab, dim]
  layers: Llama2cLayer[];
  rmsFinal: Float32Array;
  freqCisReal: Float32Array; // [seqLen, headSize/2]
  freqCisImag: Float32Array;
  /** Only when the classifier is not shared: [vocab, dim]. */
  wcls?: Float32Array;
}

export function parseLlama2cCheckpoint(file: Uint8Array): Llama2cCheckpoint {
  if (endianness() !== 'LE') throw new Error('llama2.c checkpoints are little-endian; this reader assumes an LE host');
  // Copy into a fresh, aligned buffer so that Float32Array views are legal.
  const bytes = new Uint8Array(file);
  const header = new Int32Array(bytes.buffer, 0, 7);
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, rawVocab, seqLen] = Array.from(header) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (!(dim > 0 && hiddenDim > 0 && nLayers > 0 && nHeads > 0 && nKvHeads > 0 && rawVocab !== 0 && seqLen > 0)) {
    throw new Error(`not a llama2.c legacy checkpoint (header ${Array.from(header).join(', ')})`);
  }
  if (dim % nHeads !== 0 || nHeads % nKvHeads !== 0 || (dim / nHeads) % 2 !== 0) {
    throw new Error(`inconsistent head layout: dim ${dim}, n_heads ${nHeads}, n_kv_heads ${nKvHeads}`);
  }
  const vocabSize = Math.abs(rawVocab);
  const headSize = dim / nHeads;
  const kvDim = headSize * nKvHeads;
  const config: Llama2cConfig = {
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    vocabSize,
    seqLen,
    sharedClassifier: rawVocab > 0,
    headSize,
    kvDim,
  };

  let offset = 28;
  const take = (n: number): Float32Array => {
    if (offset + 4 * n > bytes.byteLength) throw new Error('llama2.c checkpoint is truncated');
    const a = new Float32Array(bytes.buffer, offset, n);
    offset += 4 * n;
    return a;
  };
  const perLayer = (n: number): Float32Array[] => Array.from({ length: nLayers }, () => take(n));
  const tokenEmbedding = take(vocabSize * dim);
  const rmsAtt = perLayer(dim);
  const wq = perLayer(dim * dim);
  const wk = perLayer(kvDim * dim);
  const wv = perLayer(kvDim * dim);
  const wo = perLayer(dim * dim);
  const rmsFfn = perLayer(dim);
  const w1 = perLayer(hiddenDim * dim);
  const w2 = perLayer(dim * hiddenDim);
  const w3 = perLayer(hiddenDim * dim);
  const rmsFinal = take(dim);
  const freqCisReal = take((seqLen * headSize) / 2);
  const freqCisImag = take((seqLen * headSize) / 2);
  const wcls = config.sharedClassifier ? undefined : take(vocabSize * dim);
  if (offset !== bytes.byteLength)
    throw new Error(`llama2.c checkpoint: ${bytes.byteLength - offset} unexpected trailing bytes`);
  const layers = Array.from({ length: nLayers }, (_, l) => ({
    rmsAtt: rmsAtt[l]!,
    wq: wq[l]!,
    wk: wk[l]!,
    wv: wv[l]!,
    wo: wo[l]!,
    rmsFfn: rmsFfn[l]!,
    w1: w1[l]!,
    w2: w2[l]!,
    w3: w3[l]!,
  }));
  return { config, tokenEmbedding, layers, rmsFinal, freqCisReal, freqCisImag, ...(wcls ? { wcls } : {}) };
}

export interface Llama2cVocab {
  maxTokenLength: number;
  /** Raw pieces as stored (sentencepiece's ▁ is a plain space; BOS/EOS are "\n<s>\n" / "\n</s>\n"). */
  pieces: string[];
  scores: number[];
}

export function parseLlama2cTokenizer(file: Uint8Array, vocabSize: number): Llama2cVocab {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const maxTokenLength = view.getInt32(0, true);
  const pieces: string[] = [];
  const scores: number[] = [];
  let p = 4;
  for (let i = 0; i < vocabSize; i++) {
    if (p + 8 > file.byteLength) throw new Error(`tokenizer file ends after ${i} of ${vocabSize} tokens`);
    scores.push(view.getFloat32(p, true));
    const len = view.getInt32(p + 4, true);
    p += 8;
    pieces.push(decoder.decode(file.subarray(p, p + len)));
    p += len;
  }
  if (p !== file.byteLength)
    throw new Error(`tokenizer file has ${file.byteLength - p} trailing bytes (vocab size mismatch?)`);
  return { maxTokenLength, pieces, scores };
}
