/**
 * A sibling of models/stories260k for observer tests: the llama2.c checkpoint with its weights deterministically
 * perturbed (seeded multiplicative noise; the RoPE tables untouched), converted by scripts/convert-llama2c.ts, with
 * models/stories260k's own tokenizer files, so both directories tokenize identically. Optionally a shorter seq_len.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertLlama2c } from '../../scripts/convert-llama2c.js';
import { parseLlama2cCheckpoint } from '../../scripts/lib/llama2c-format.js';
import { decodeModel, encodeModel } from '../../src/onnx/proto.js';
import { mulberry32 } from '../../src/random.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const STORIES_DIR = join(ROOT, 'models', 'stories260k');
export const STORIES_BIN = join(ROOT, 'test', 'fixtures', 'stories260k', 'stories260K.bin');

export interface SiblingOptions {
  seed?: number;
  /** Every weight w becomes w · (1 + noise · u), u uniform in [-1, 1). */
  noise?: number;
  /** A shorter context than the original 512 (the RoPE tables are cut to it). */
  seqLen?: number;
}

export interface Sibling {
  /** The model directory (config.json, tokenizer files, onnx/model.onnx). */
  dir: string;
  /** Its llama2.c checkpoint (for test/reference/llama2c.ts). */
  bin: string;
}

/** Writes a perturbed copy of stories260K.bin and its converted model directory under a fresh temp dir. */
export function makeSibling(opts: SiblingOptions = {}): Sibling {
  const { seed = 7, noise = 0.25 } = opts;
  const ck = parseLlama2cCheckpoint(readFileSync(STORIES_BIN));
  const cfg = ck.config;
  const seqLen = opts.seqLen ?? cfg.seqLen;
  if (seqLen > cfg.seqLen) throw new Error(`seqLen ${seqLen} > ${cfg.seqLen}`);
  const rng = mulberry32(seed);
  const perturb = (a: Float32Array): Float32Array => a.map((w) => w * (1 + noise * (2 * rng() - 1)));
  const layerKinds = ['rmsAtt', 'wq', 'wk', 'wv', 'wo', 'rmsFfn', 'w1', 'w2', 'w3'] as const;
  const rope = (seqLen * cfg.headSize) / 2;
  const parts: Float32Array[] = [
    perturb(ck.tokenEmbedding),
    ...layerKinds.flatMap((k) => ck.layers.map((l) => perturb(l[k]))),
    perturb(ck.rmsFinal),
    ck.freqCisReal.subarray(0, rope),
    ck.freqCisImag.subarray(0, rope),
    ...(ck.wcls ? [perturb(ck.wcls)] : []),
  ];
  const header = Int32Array.from([
    cfg.dim,
    cfg.hiddenDim,
    cfg.nLayers,
    cfg.nHeads,
    cfg.nKvHeads,
    cfg.sharedClassifier ? cfg.vocabSize : -cfg.vocabSize,
    seqLen,
  ]);
  const root = mkdtempSync(join(tmpdir(), 'tailguard-sibling-'));
  const bin = join(root, 'sibling.bin');
  writeFileSync(bin, Buffer.concat([header, ...parts].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))));
  const dir = join(root, 'model');
  convertLlama2c({ bin, tokenizerDir: STORIES_DIR, out: dir, card: false });
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'])
    copyFileSync(join(STORIES_DIR, f), join(dir, f));
  return { dir, bin };
}

/** A copy of a model directory whose large initializers live in onnx/model.onnx_data (ONNX external data). */
export function withExternalData(modelDir: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-extdata-'));
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'])
    copyFileSync(join(modelDir, f), join(dir, f));
  mkdirSync(join(dir, 'onnx'));
  const proto = decodeModel(readFileSync(join(modelDir, 'onnx', 'model.onnx')));
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of proto.graph?.initializer ?? []) {
    const raw = t.rawData;
    if (!raw || raw.length < 1024) continue;
    chunks.push(raw);
    t.externalData = [
      { key: 'location', value: 'model.onnx_data' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    t.dataLocation = 1;
    t.rawData = new Uint8Array(0);
    offset += raw.length;
  }
  writeFileSync(join(dir, 'onnx', 'model.onnx_data'), Buffer.concat(chunks));
  writeFileSync(join(dir, 'onnx', 'model.onnx'), encodeModel(proto));
  return dir;
}
