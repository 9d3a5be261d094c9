/**
 * The scoring engine against an independent float64 forward pass of the stories260K weights
 * (test/reference/llama2c.ts reads the raw llama2.c checkpoint; it shares no code with the ONNX path).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelSpec, type ModelSpec } from '../../src/lm/model-config.js';
import { resolveModel } from '../../src/lm/model-dir.js';
import { createScoringSession, type ScoringSession } from '../../src/lm/session.js';
import { loadTokenizer, type TextTokenizer } from '../../src/lm/tokenizer.js';
import { planWindows } from '../../src/lm/windows.js';
import { scoreChunk, type Runner } from '../../src/score/infer.js';
import { SUM_FIELDS, type ChunkScores, type ScoringConfig, type TokenizedChunk } from '../../src/score/types.js';
import { lmSignals } from '../../src/signals/lm-signals.js';
import { BOS_ID, Llama2cReference, Llama2cTokenizer, logSoftmax } from '../reference/llama2c.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'stories260k');
const TEXTS = [
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.',
  'Tom had a big red ball. He threw it high.',
  'The committee shall report its findings to the Senate no later than ninety days after enactment.',
  'Hi!',
  'Ünïcödé and emoji 🙂 fall back to bytes; numbers 12345 too.',
  'One day, a little bird sat on a tree. The bird sang a song. A boy heard the song and smiled. He wanted to sing too, so he sang with the bird all day long.',
];

let session: ScoringSession;
let spec: ModelSpec;
let tokenizer: TextTokenizer;
let runner: Runner;
let reference: Llama2cReference;
let refTokenizer: Llama2cTokenizer;
let onnxPath: string;
let modelDir: string;

beforeAll(async () => {
  const model = await resolveModel('stories260k');
  onnxPath = model.onnxPath;
  modelDir = model.dir;
  spec = readModelSpec(model.dir);
  tokenizer = loadTokenizer(model.dir, spec);
  session = await createScoringSession(model.onnxPath, { devices: ['cpu'], threads: 1 });
  runner = { run: (f) => session.session.run(f), inputs: session.inputs };
  reference = Llama2cReference.fromFile(join(FIXTURE, 'stories260K.bin'));
  refTokenizer = Llama2cTokenizer.fromFile(join(FIXTURE, 'tok512.bin'));
});
afterAll(async () => session?.release());

function tokenize(texts: string[]): TokenizedChunk {
  const docs = texts.map((t) => [tokenizer.documentStartId, ...tokenizer.encode(t)]);
  const offsets = new Int32Array(docs.length + 1);
  docs.forEach((d, i) => {
    offsets[i + 1] = offsets[i]! + d.length;
  });
  return { ids: Int32Array.from(docs.flat()), offsets };
}

function cfg(over: Partial<ScoringConfig> = {}): ScoringConfig {
  return {
    onnxPath,
    modelDir,
    devices: ['cpu'],
    threads: 1,
    maxBatch: 16,
    maxTokens: 8192,
    context: spec.contextLength,
    stride: spec.contextLength / 2,
    ...over,
  };
}

function signalsOf(s: ChunkScores, d: number) {
  const k = d * SUM_FIELDS.length;
  return lmSignals({
    tokens: s.tokens[d]!,
    logp: s.sums[k]!,
    entropy: s.sums[k + 1]!,
    logRank: s.sums[k + 2]!,
    variance: s.sums[k + 3]!,
  });
}

/** Every signal from full float64 reference logits, for ids scored with the given windows. */
function referenceSignals(ids: number[], context: number, stride: number) {
  let logp = 0,
    entropy = 0,
    logRank = 0,
    variance = 0,
    tokens = 0;
  for (const w of planWindows(ids.length, context, stride)) {
    const logits = reference.forwardLogits(ids.slice(w.start, w.end));
    for (let t = w.scoreFrom; t < w.end; t++) {
      const lp = logSoftmax(logits[t - 1 - w.start]!);
      const target = lp[ids[t]!]!;
      let e = 0;
      for (let v = 0; v < lp.length; v++) e += Math.exp(lp[v]!) * lp[v]!;
      let va = 0,
        rank = 1;
      for (let v = 0; v < lp.length; v++) {
        va += Math.exp(lp[v]!) * (lp[v]! - e) ** 2;
        if (lp[v]! > target) rank++;
      }
      logp += target;
      entropy -= e;
      variance += va;
      logRank += Math.log(rank);
      tokens++;
    }
  }
  return lmSignals({ tokens, logp, entropy, logRank, variance });
}

describe('stories260k through the scoring engine', () => {
  it('tokenizes exactly as llama2.c does', () => {
    for (const t of TEXTS) expect(Array.from(tokenizer.encode(t))).toEqual(refTokenizer.encode(t));
    expect(tokenizer.documentStartId).toBe(BOS_ID);
  });

  it('agrees with the independent reference forward pass on every signal (NLL to 1e-4)', async () => {
    const scores = await scoreChunk(runner, spec, cfg(), tokenize(TEXTS));
    TEXTS.forEach((t, d) => {
      const ids = [BOS_ID, ...refTokenizer.encode(t)];
      const ref = referenceSignals(ids, spec.contextLength, spec.contextLength / 2);
      const got = signalsOf(scores, d);
      expect(got.tokens).toBe(ids.length - 1);
      expect(Math.abs(got.mean_nll - ref.mean_nll)).toBeLessThan(1e-4);
      expect(Math.abs(got.mean_entropy - ref.mean_entropy)).toBeLessThan(1e-4);
      expect(Math.abs(got.mean_log_rank - ref.mean_log_rank)).toBeLessThan(1e-9);
      expect(Math.abs(got.fast_detect - ref.fast_detect)).toBeLessThan(1e-3);
    });
  });

  it('reproduces the known perplexity of the Lily sentence (≈ 1.22, README of the weights)', async () => {
    const scores = await scoreChunk(runner, spec, cfg(), tokenize([TEXTS[0]!]));
    expect(signalsOf(scores, 0).perplexity).toBeCloseTo(1.22, 2);
  });

  it('scores a batch exactly as one document at a time', async () => {
    const batched = await scoreChunk(runner, spec, cfg({ maxBatch: 16 }), tokenize(TEXTS));
    const single = await scoreChunk(runner, spec, cfg({ maxBatch: 1 }), tokenize(TEXTS));
    expect(Array.from(batched.tokens)).toEqual(Array.from(single.tokens));
    for (let i = 0; i < batched.sums.length; i++)
      expect(Math.abs(batched.sums[i]! - single.sums[i]!)).toBeLessThan(1e-4);
    for (let i = 0; i < batched.embeddings.length; i++)
      expect(Math.abs(batched.embeddings[i]! - single.embeddings[i]!)).toBeLessThan(1e-5);
  });

  it('scores a long document with windows exactly as direct passes over the same contexts', async () => {
    const long = Array.from({ length: 6 }, () => TEXTS[5]!).join(' ');
    const ids = [BOS_ID, ...refTokenizer.encode(long)];
    expect(ids.length).toBeGreaterThan(200);
    const context = 64;
    const stride = 24;
    const scores = await scoreChunk(runner, spec, cfg({ context, stride, maxBatch: 4 }), tokenize([long]));
    const ref = referenceSignals(ids, context, stride);
    const got = signalsOf(scores, 0);
    expect(got.tokens).toBe(ids.length - 1);
    expect(Math.abs(got.mean_nll - ref.mean_nll)).toBeLessThan(1e-4);
    expect(Math.abs(got.mean_entropy - ref.mean_entropy)).toBeLessThan(1e-4);
    // Where the context allows one pass, windows change nothing: the same document in one window.
    const direct = await scoreChunk(runner, spec, cfg(), tokenize([long]));
    const full = referenceSignals(ids, spec.contextLength, spec.contextLength / 2);
    expect(Math.abs(signalsOf(direct, 0).mean_nll - full.mean_nll)).toBeLessThan(1e-4);
  });

  it('gives deterministic, unit-length embeddings equal to the normalised mean of the final hidden states', async () => {
    const a = await scoreChunk(runner, spec, cfg(), tokenize(TEXTS));
    const b = await scoreChunk(runner, spec, cfg({ maxBatch: 2 }), tokenize(TEXTS));
    const c = await scoreChunk(runner, spec, cfg(), tokenize(TEXTS));
    expect(Buffer.from(a.embeddings.buffer)).toEqual(Buffer.from(c.embeddings.buffer));
    for (let d = 0; d < TEXTS.length; d++) {
      const row = a.embeddings.subarray(d * a.dim, (d + 1) * a.dim);
      expect(Math.hypot(...row)).toBeCloseTo(1, 5);
      for (let i = 0; i < a.dim; i++) expect(Math.abs(row[i]! - b.embeddings[d * a.dim + i]!)).toBeLessThan(1e-5);
      // Reference: mean over the document's token positions of the final-norm hidden state.
      const ids = [BOS_ID, ...refTokenizer.encode(TEXTS[d]!)];
      const hidden = reference.finalHidden(ids).slice(1);
      const mean = Array.from({ length: a.dim }, (_, i) => hidden.reduce((s, h) => s + h[i]!, 0) / hidden.length);
      const norm = Math.hypot(...mean);
      for (let i = 0; i < a.dim; i++) expect(Math.abs(row[i]! - mean[i]! / norm)).toBeLessThan(1e-4);
    }
  });

  it('reports a document with no tokens instead of scoring it', async () => {
    const chunk: TokenizedChunk = { ids: Int32Array.from([BOS_ID]), offsets: Int32Array.from([0, 1]) };
    const scores = await scoreChunk(runner, spec, cfg(), chunk);
    expect(scores.failures[0]).toMatch(/no tokens/);
  });
});

describe('inference failures', () => {
  const failing: Runner = { run: () => Promise.reject(new Error('device lost')), inputs: [] };
  it('reports a lone failing document as a bad row', async () => {
    const scores = await scoreChunk({ ...failing, inputs: session.inputs }, spec, cfg(), tokenize([TEXTS[0]!]));
    expect(scores.failures[0]).toMatch(/inference failed: device lost/);
  });

  it('stops the run when every document of a chunk fails: the fault is not the documents', async () => {
    await expect(scoreChunk({ ...failing, inputs: session.inputs }, spec, cfg(), tokenize(TEXTS))).rejects.toThrow(
      /every document of a chunk failed inference \(inference failed: device lost\)/,
    );
  });
});
