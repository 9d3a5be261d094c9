/**
 * Scores one chunk of tokenized documents on a session: windows → length-bucketed batches → the
 * augmented graph → per-document float64 sums. Only per-token scalars and one hidden-state sum per
 * row come back from the runtime.
 */
import type * as ort from 'onnxruntime-node';
import { bucketByLength, buildFeeds, type ModelInput, type WindowJob } from '../lm/batch.js';
import type { ModelSpec } from '../lm/model-config.js';
import { SCORING_OUTPUTS } from '../lm/onnx/augment.js';
import { planWindows } from '../lm/windows.js';
import { SUM_FIELDS, TOKEN_FIELDS, type ChunkScores, type ScoringConfig, type TokenizedChunk } from './types.js';

const NSUM = SUM_FIELDS.length;
const NTOK = TOKEN_FIELDS.length;

export interface Runner {
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
  inputs: readonly ModelInput[];
}

/** `observerSpec`: the observer model's shape, when the graph runs one (for its empty KV-cache feeds). */
export async function scoreChunk(
  runner: Runner,
  spec: ModelSpec,
  cfg: ScoringConfig,
  chunk: TokenizedChunk,
  observerSpec?: ModelSpec,
): Promise<ChunkScores> {
  const nDocs = chunk.offsets.length - 1;
  const dim = spec.hiddenSize;
  const tokens = new Int32Array(nDocs);
  const sums = new Float64Array(nDocs * NSUM);
  const hidden = new Float64Array(nDocs * dim);
  const failures: (string | null)[] = new Array(nDocs).fill(null);
  const tokenStats = new Float32Array(chunk.ids.length * NTOK);

  const jobs: WindowJob[] = [];
  for (let d = 0; d < nDocs; d++) {
    const ids = chunk.ids.subarray(chunk.offsets[d]!, chunk.offsets[d + 1]!);
    if (ids.length < 2) {
      failures[d] = 'the document has no tokens after tokenization';
      continue;
    }
    for (const window of planWindows(ids.length, cfg.context, cfg.stride)) jobs.push({ doc: d, ids, window });
  }

  const accumulate = (batch: WindowJob[], out: Record<string, ort.Tensor>, seqLen: number): void => {
    const logp = out[SCORING_OUTPUTS.logp]!.data as Float32Array;
    const entropy = out[SCORING_OUTPUTS.entropy]!.data as Float32Array;
    const variance = out[SCORING_OUTPUTS.variance]!.data as Float32Array;
    const rank = out[SCORING_OUTPUTS.rank]!.data as Float32Array;
    const hsum = out[SCORING_OUTPUTS.hiddenSum]!.data as Float32Array;
    const xent = out[SCORING_OUTPUTS.crossEntropy]?.data as Float32Array | undefined;
    batch.forEach((job, r) => {
      const { start, end, scoreFrom } = job.window;
      let sLogp = 0,
        sEntropy = 0,
        sLogRank = 0,
        sVariance = 0,
        sXent = 0;
      // Token at position t is predicted by the output at t-1.
      for (let t = scoreFrom; t < end; t++) {
        const k = r * seqLen + (t - 1 - start);
        sLogp += logp[k]!;
        sEntropy += entropy[k]!;
        sLogRank += Math.log(rank[k]!);
        sVariance += variance[k]!;
        if (xent) sXent += xent[k]!;
        const p = (chunk.offsets[job.doc]! + t) * NTOK;
        tokenStats[p] = logp[k]!;
        tokenStats[p + 1] = entropy[k]!;
        tokenStats[p + 2] = variance[k]!;
        tokenStats[p + 3] = rank[k]!;
      }
      const s = job.doc * NSUM;
      sums[s] = sums[s]! + sLogp;
      sums[s + 1] = sums[s + 1]! + sEntropy;
      sums[s + 2] = sums[s + 2]! + sLogRank;
      sums[s + 3] = sums[s + 3]! + sVariance;
      sums[s + 4] = sums[s + 4]! + sXent;
      tokens[job.doc] = tokens[job.doc]! + (end - scoreFrom);
      const h = job.doc * dim;
      for (let i = 0; i < dim; i++) hidden[h + i] = hidden[h + i]! + hsum[r * dim + i]!;
    });
  };

  const runBatch = async (batch: WindowJob[]): Promise<void> => {
    const { feeds, seqLen } = buildFeeds(batch, runner.inputs, spec, padIdFor(batch), observerSpec);
    const out = await runner.run(feeds);
    accumulate(batch, out, seqLen);
  };

  for (const planned of bucketByLength(jobs, { maxBatch: cfg.maxBatch, maxTokens: cfg.maxTokens })) {
    const batch = planned.filter((job) => !failures[job.doc]); // a failed document's other windows are moot
    if (batch.length === 0) continue;
    try {
      await runBatch(batch);
    } catch {
      // Isolate the failing window(s): nothing else in the batch is lost.
      for (const job of batch) {
        if (failures[job.doc]) continue;
        try {
          await runBatch([job]);
        } catch (err) {
          failures[job.doc] = `inference failed: ${(err as Error).message.split('\n')[0]}`;
        }
      }
    }
  }

  // When every document fails, the fault is the model or device, not the documents: stop the run
  // (its checkpoint stays) rather than report each row as bad.
  const attempted = new Set(jobs.map((j) => j.doc));
  if (attempted.size >= 2 && [...attempted].every((d) => failures[d])) {
    throw new Error(
      `every document of a chunk failed inference (${failures[jobs[0]!.doc]}); stopping instead of reporting them as bad rows`,
    );
  }

  const embeddings = new Float32Array(nDocs * dim);
  for (let d = 0; d < nDocs; d++) {
    if (failures[d]) {
      tokens[d] = 0;
      sums.fill(0, d * NSUM, (d + 1) * NSUM);
      continue;
    }
    // The mean's direction is the sum's: normalising the sum gives the normalised mean.
    let norm = 0;
    for (let i = 0; i < dim; i++) norm += hidden[d * dim + i]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < dim; i++) embeddings[d * dim + i] = hidden[d * dim + i]! / norm;
  }
  return { tokens, observer: cfg.observer !== undefined, sums, embeddings, dim, failures, tokenStats };
}

/** Padding positions are masked out; any valid id will do, the row's own start token is always valid. */
function padIdFor(batch: WindowJob[]): number {
  return batch[0]!.ids[0]!;
}
