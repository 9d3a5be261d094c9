/**
 * In-process scorers the bench compares the engine (scoreCorpus) against. None of them has a pipeline:
 * tokenization and inference alternate on the main thread, with one session using `threads` cores.
 *
 *   naive       the unaugmented graph, one document and one window at a time, logits [1,T,V] copied into
 *               JS and reduced there (log-softmax, entropy, variance, rank) — "logits leave the runtime".
 *   batchedJs   the unaugmented graph fed the engine's batches (bucketByLength/buildFeeds), logits
 *               [B,T,V] copied into JS and reduced there: batching without the in-graph reductions.
 *   inGraph     the augmented graph through the engine's own scoreChunk (createScoringSession): the
 *               in-graph reductions, with or without batching, but without the worker pipeline.
 *
 * All return per-document sums in the engine's terms (tokens, Σ log p, Σ H, Σ log rank, Σ Var), so the
 * bench can check that every path computes the same numbers before comparing their speed.
 */
import * as ort from 'onnxruntime-node';
import { bucketByLength, buildFeeds, type WindowJob } from '../src/lm/batch.js';
import { readModelSpec, type ModelSpec } from '../src/lm/model-config.js';
import { createScoringSession } from '../src/lm/session.js';
import { loadTokenizer, type TextTokenizer } from '../src/lm/tokenizer.js';
import { planWindows } from '../src/lm/windows.js';
import { scoreChunk, type Runner } from '../src/score/infer.js';
import { SUM_FIELDS, type ScoringConfig, type TokenizedChunk } from '../src/score/types.js';

export interface DocSums {
  tokens: number;
  logp: number;
  entropy: number;
  logRank: number;
  variance: number;
}

export interface BaselineResult {
  tokens: number;
  /** Everything: tokenizer load, session creation (incl. graph augmentation where used), tokenization, inference. */
  wallSeconds: number;
  /** From the session being ready to the last document scored (tokenization included). */
  loopSeconds: number;
  docs: DocSums[];
}

export interface BaselineOptions {
  modelDir: string;
  onnxPath: string;
  threads: number;
  /** Most windows per batch (batchedJs / inGraph). */
  maxBatch?: number;
  maxTokens?: number;
  /** Documents tokenized and bucketed together (the engine's chunkDocs). */
  chunkDocs?: number;
}

function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  // The same settings createScoringSession uses for the CPU provider.
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  };
}

const emptySums = (): DocSums => ({ tokens: 0, logp: 0, entropy: 0, logRank: 0, variance: 0 });

function encodeDoc(tok: TextTokenizer, text: string): Int32Array {
  const body = tok.encode(text);
  const ids = new Int32Array(body.length + 1);
  ids[0] = tok.documentStartId;
  ids.set(body, 1);
  return ids;
}

/**
 * Reduces one position's logits row (V float32 values at `off`) in float64, for target token `target`,
 * into `acc`. Three passes: max, log-sum-exp, then p·logp / p·logp² / rank.
 */
export function reduceLogitsRow(logits: Float32Array, off: number, vocab: number, target: number, acc: DocSums): void {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) {
    const x = logits[off + v]!;
    if (x > max) max = x;
  }
  let sumExp = 0;
  for (let v = 0; v < vocab; v++) sumExp += Math.exp(logits[off + v]! - max);
  const lse = max + Math.log(sumExp);
  const xt = logits[off + target]!;
  let eLogp = 0;
  let eLogp2 = 0;
  let above = 0;
  for (let v = 0; v < vocab; v++) {
    const x = logits[off + v]!;
    const lp = x - lse;
    const p = Math.exp(lp);
    eLogp += p * lp;
    eLogp2 += p * lp * lp;
    if (x > xt) above++;
  }
  acc.tokens++;
  acc.logp += xt - lse;
  acc.entropy -= eLogp;
  acc.logRank += Math.log(1 + above);
  acc.variance += Math.max(0, eLogp2 - eLogp * eLogp);
}

/** Tokenizer and a session on the unaugmented graph (logits come out), with the setup's timing. */
async function openUnaugmented(o: BaselineOptions) {
  const t0 = performance.now();
  const spec = readModelSpec(o.modelDir);
  const tok = loadTokenizer(o.modelDir, spec);
  const session = await ort.InferenceSession.create(o.onnxPath, sessionOptions(o.threads));
  const t1 = performance.now();
  const context = spec.contextLength;
  return { t0, t1, spec, tok, session, context, stride: Math.max(1, Math.floor(context / 2)), vocab: spec.vocabSize };
}

/** One document at a time, one window at a time, logits into JS. */
export async function naiveScore(texts: string[], o: BaselineOptions): Promise<BaselineResult> {
  const { t0, t1, spec, tok, session, context, stride, vocab } = await openUnaugmented(o);
  const docs: DocSums[] = [];
  let tokens = 0;
  try {
    for (const text of texts) {
      const ids = encodeDoc(tok, text);
      const acc = emptySums();
      for (const { start, end, scoreFrom } of planWindows(ids.length, context, stride)) {
        const n = end - start;
        const feeds: Record<string, ort.Tensor> = {};
        for (const name of session.inputNames) {
          if (name === 'input_ids')
            feeds[name] = new ort.Tensor(
              'int64',
              BigInt64Array.from(ids.subarray(start, end), (v) => BigInt(v)),
              [1, n],
            );
          else if (name === 'attention_mask')
            feeds[name] = new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
          else if (name === 'position_ids')
            feeds[name] = new ort.Tensor(
              'int64',
              BigInt64Array.from({ length: n }, (_, j) => BigInt(j)),
              [1, n],
            );
          else if (name.startsWith('past_key_values.'))
            feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, spec.numKeyValueHeads, 0, spec.headDim]);
          else throw new Error(`naive baseline: unexpected model input ${name}`);
        }
        const out = await session.run(feeds, ['logits']);
        const logits = out.logits!.data as Float32Array;
        // The token at position t is predicted by the output at t-1.
        for (let t = scoreFrom; t < end; t++) reduceLogitsRow(logits, (t - 1 - start) * vocab, vocab, ids[t]!, acc);
      }
      tokens += acc.tokens;
      docs.push(acc);
    }
  } finally {
    await session.release();
  }
  const t2 = performance.now();
  return { tokens, wallSeconds: (t2 - t0) / 1000, loopSeconds: (t2 - t1) / 1000, docs };
}

function tokenizeChunk(tok: TextTokenizer, texts: string[]): { ids: Int32Array[]; chunk: TokenizedChunk } {
  const ids = texts.map((t) => encodeDoc(tok, t));
  const offsets = new Int32Array(ids.length + 1);
  ids.forEach((e, i) => {
    offsets[i + 1] = offsets[i]! + e.length;
  });
  const flat = new Int32Array(offsets[ids.length]!);
  ids.forEach((e, i) => flat.set(e, offsets[i]!));
  return { ids, chunk: { ids: flat, offsets } };
}

function* chunks<T>(xs: T[], n: number): Generator<T[]> {
  for (let i = 0; i < xs.length; i += n) yield xs.slice(i, i + n);
}

/** The engine's batches on the unaugmented graph, logits into JS. */
export async function batchedJsScore(texts: string[], o: BaselineOptions): Promise<BaselineResult> {
  const { t0, t1, spec, tok, session, context, stride, vocab } = await openUnaugmented(o);
  const docs: DocSums[] = [];
  let tokens = 0;
  try {
    for (const part of chunks(texts, o.chunkDocs ?? 64)) {
      const { ids } = tokenizeChunk(tok, part);
      const sums = part.map(emptySums);
      const jobs: WindowJob[] = [];
      ids.forEach((docIds, d) => {
        for (const window of planWindows(docIds.length, context, stride)) jobs.push({ doc: d, ids: docIds, window });
      });
      for (const batch of bucketByLength(jobs, { maxBatch: o.maxBatch ?? 16, maxTokens: o.maxTokens ?? 8192 })) {
        const { feeds, seqLen } = buildFeeds(
          batch,
          session.inputNames.map((name) => ({ name })),
          spec,
          batch[0]!.ids[0]!,
        );
        const out = await session.run(feeds, ['logits']);
        const logits = out.logits!.data as Float32Array;
        batch.forEach((job, r) => {
          const { start, end, scoreFrom } = job.window;
          for (let t = scoreFrom; t < end; t++)
            reduceLogitsRow(logits, (r * seqLen + (t - 1 - start)) * vocab, vocab, job.ids[t]!, sums[job.doc]!);
        });
      }
      for (const s of sums) tokens += s.tokens;
      docs.push(...sums);
    }
  } finally {
    await session.release();
  }
  const t2 = performance.now();
  return { tokens, wallSeconds: (t2 - t0) / 1000, loopSeconds: (t2 - t1) / 1000, docs };
}

/** The augmented graph through the engine's scoreChunk, on the main thread. */
export async function inGraphScore(texts: string[], o: BaselineOptions): Promise<BaselineResult> {
  const t0 = performance.now();
  const spec: ModelSpec = readModelSpec(o.modelDir);
  const tok = loadTokenizer(o.modelDir, spec);
  const scoring = await createScoringSession(o.onnxPath, { devices: ['cpu'], threads: o.threads });
  const t1 = performance.now();
  const cfg: ScoringConfig = {
    onnxPath: o.onnxPath,
    modelDir: o.modelDir,
    devices: ['cpu'],
    threads: o.threads,
    maxBatch: o.maxBatch ?? 16,
    maxTokens: o.maxTokens ?? 8192,
    stride: Math.max(1, Math.floor(spec.contextLength / 2)),
    context: spec.contextLength,
  };
  const runner: Runner = { run: (f) => scoring.session.run(f), inputs: scoring.inputs };
  const docs: DocSums[] = [];
  let tokens = 0;
  const NSUM = SUM_FIELDS.length;
  try {
    for (const part of chunks(texts, o.chunkDocs ?? 64)) {
      const { chunk } = tokenizeChunk(tok, part);
      const s = await scoreChunk(runner, spec, cfg, chunk);
      for (let d = 0; d < part.length; d++) {
        const n = s.tokens[d]!;
        tokens += n;
        docs.push({
          tokens: n,
          logp: s.sums[d * NSUM]!,
          entropy: s.sums[d * NSUM + 1]!,
          logRank: s.sums[d * NSUM + 2]!,
          variance: s.sums[d * NSUM + 3]!,
        });
      }
    }
  } finally {
    await scoring.release();
  }
  const t2 = performance.now();
  return { tokens, wallSeconds: (t2 - t0) / 1000, loopSeconds: (t2 - t1) / 1000, docs };
}
