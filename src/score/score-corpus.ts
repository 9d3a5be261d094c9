/**
 * `scoreCorpus`: read → tokenize → score → write, streamed with bounded memory and resumable.
 *
 * Outputs in `out`:
 *   scores.jsonl     one row per scored document, in input order: id, line, the LM signals (signals/lm-signals.ts)
 *                    and the text signals (signals/text-signals.ts)
 *   scores.parquet   the same rows, with format 'parquet'
 *   embeddings.npy   float32 N×d, row i belongs to scores row i
 *   errors.jsonl     one row per input row that could not be scored (line, id, reason)
 *   run.json         model, device, counts, repeated ids (duplicate-ids.ts), timings, tool version
 * Ids need not be unique: a repeated id is counted and reported, and its rows are scored and written like any other.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { InterruptedError, RunStateError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { detectCorpusFormat, openCorpus } from '../io/open-corpus.js';
import { listTextFiles } from '../io/read-textdir.js';
import { resolveInputName } from '../io/corpus-files.js';
import { jsonlToParquet } from '../io/parquet-from-jsonl.js';
import type { InputRecord } from '../io/records.js';
import { devicePlan, type DeviceRequest } from '../lm/device.js';
import { readModelSpec, type ModelSpec } from '../lm/model-config.js';
import { sameTokenizer } from '../lm/tokenizer.js';
import { tokenDistribution, type TokenDistribution } from '../signals/token-distribution.js';
import { resolveModel, type ResolvedModel } from '../lm/model-dir.js';
import { lmSignals } from '../signals/lm-signals.js';
import { charOffsets, sentenceNllSd, spans, type PositionedSignals, type TokenTrack } from '../signals/positioned.js';
import type { TextSignals } from '../signals/text-signals.js';
import { TOOL_VERSION } from '../version.js';
import {
  assertSameRun,
  readCheckpoint,
  removeCheckpoint,
  writeCheckpoint,
  type Checkpoint,
  type Counters,
} from './checkpoint.js';
import { IdRepeats, UNCHECKED_IDS, type DuplicateIds } from './duplicate-ids.js';
import { RunOutputs } from './outputs.js';
import { readRun, SCORE_FILES } from './score-dir.js';
import type { ShardSpec } from './shards/from-env.js';
import { claimManifest, readShardDone, SHARD_FILES, shardDirName, writeShardDone } from './shards/layout.js';
import { checkSlice } from '../io/corpus-slice.js';
import { defaultThreads, ScoringPools, type WorkerDevice } from './pools.js';
import { SUM_FIELDS, TOKEN_FIELDS, type ChunkScores, type ScoringConfig } from './types.js';

export interface ScoreOptions {
  /**
   * JSONL (.gz/.zst), Parquet, a directory of .txt files, or '-' for JSONL on stdin; or many JSONL/Parquet files
   * read as one corpus: a directory of them, a glob, or `@list.txt` (io/corpus-files.ts).
   */
  input: string;
  out: string;
  /** Model directory, bundled model name or hub id (default: the bundled default model). */
  model?: string;
  /** ONNX file inside the model directory (default onnx/model.onnx). */
  onnxFile?: string;
  /**
   * A second LM with the same tokenizer (directory, bundled name or hub id), run in the same graph: adds the
   * Binoculars score (this model's mean NLL over the cross-entropy of its predictions under the observer's).
   */
  observerModel?: string;
  /** ONNX file inside the observer's directory (default onnx/model.onnx). */
  observerOnnxFile?: string;
  textField?: string;
  idField?: string;
  /** Also write scores.parquet. */
  format?: 'jsonl' | 'parquet';
  device?: DeviceRequest;
  /** Inference workers, one session each (default 1). */
  workers?: number;
  /** Intra-op threads per session (default: cores / workers). */
  threads?: number;
  tokenizerWorkers?: number;
  /** Most windows in a batch (default 4 on CPU, 16 on GPU; see bench/RESULTS.md). */
  batchSize?: number;
  /** Most padded tokens in a batch, which bounds the batch × length × vocabulary activations (default 2048 on CPU, 8192 on GPU, at least the context). */
  maxBatchTokens?: number;
  /** Add `spans` to every row: consecutive windows of this many tokens with their text range and scores. */
  spans?: number;
  /** Context length to use (default and maximum: the model's). */
  context?: number;
  /** Window stride for long documents (default context/2). */
  stride?: number;
  /** Input lines (rows) per chunk handed to a worker (default 64); chunks are lines k·chunkDocs+1 .. (k+1)·chunkDocs. */
  chunkDocs?: number;
  /** Largest document accepted, in UTF-8 bytes (default 64 MiB). */
  maxDocBytes?: number;
  /** How often finished rows are made durable (default 2000 ms); a crash loses at most this much work. */
  checkpointIntervalMs?: number;
  /** Start over, removing tailguard's own files from `out` (nothing else); with `shard`, from this shard's folder only. */
  overwrite?: boolean;
  /**
   * Score only shard `index` of `count` (docs/scale-out.md), into `out`/shard-0000I-of-0000N/: an ordinary score
   * directory plus a completion marker, whose rows keep their whole-input line numbers. Every shard of one `out`
   * must use the same input and options (`out`/shards.json records them); a finished shard run again is a no-op.
   */
  shard?: ShardSpec;
  cacheDir?: string;
  offline?: boolean;
  onProgress?: (p: Progress) => void;
  /** Stops the run cleanly: chunks in flight are written and checkpointed, then InterruptedError is thrown. */
  signal?: AbortSignal;
  /** Called once the session started, with the device it runs on. */
  onStart?: (info: {
    device: string;
    fallbackReasons: string[];
    resumedFrom: number;
    model: ResolvedModel;
    observer?: ResolvedModel;
  }) => void;
}

export interface Progress extends Counters {
  elapsedSeconds: number;
  tokensPerSecond: number;
  docsPerSecond: number;
  device: string;
}

export interface RunSummary {
  tool: { name: 'tailguard'; version: string };
  command: 'score';
  input: string;
  out: string;
  model: {
    ref: string;
    dir: string;
    onnx: string;
    source: string;
    model_type: string;
    hidden_size: number;
    context_length: number;
    /** The observer model of the Binoculars score, when one was given. */
    observer?: { ref: string; dir: string; onnx: string };
  };
  /**
   * The device asked for and used; each inference worker's execution provider and device id (CUDA's deviceId is
   * the n-th GPU the process sees), and CUDA_VISIBLE_DEVICES, which says which GPUs those are.
   */
  device: {
    requested: DeviceRequest;
    used: string;
    fallback_reasons: string[];
    workers?: WorkerDevice[];
    cuda_visible_devices?: string | null;
    /** In a merged or combined sharded run (merged-run.ts): each shard's device, workers and CUDA_VISIBLE_DEVICES. */
    shards?: { shard: number; used: string; workers?: WorkerDevice[]; cuda_visible_devices?: string | null }[];
  };
  options: Record<string, string | number | null>;
  counts: { input_rows: number; scored: number; errors: number };
  /** Input rows that repeat an earlier row's id (checked only with an id field; see duplicate-ids.ts). */
  duplicate_ids: DuplicateIds;
  tokens: number;
  wall_seconds: number;
  tokens_per_second: number;
  docs_per_second: number;
  attempts: number;
  outputs: Record<string, string>;
  finished_at: string;
  /** With `shard`: which shard this directory holds and where that came from. */
  shard?: { index: number; count: number; source: string };
  /** Present when the shards of a sharded run are read or merged as one run (merged-run.ts). */
  merged?: { shards: number };
}

/** Exit status convention shared by the CLI: 0 all rows scored, 1 some rows in errors.jsonl. */
export function exitCodeFor(summary: RunSummary): number {
  return summary.counts.errors > 0 ? 1 : 0;
}

/** Text per chunk (characters) at which a chunk closes early. */
const CHUNK_CHARS = 4_000_000;

/**
 * Padded tokens per batch: small on CPU (see bench/RESULTS.md), and small enough for any vocabulary
 * that one float32 batch × length × vocabulary tensor stays within 256 MiB on CPU, 2 GiB on GPU.
 */
export function defaultBatchTokens(cpu: boolean, context: number, vocabSize: number): number {
  const activationBudget = (cpu ? 256 : 2048) * 2 ** 20;
  return Math.max(context, Math.min(cpu ? 2048 : 8192, Math.floor(activationBudget / (4 * vocabSize))));
}

/** What identifies the input, so a resume notices when it changed underneath. */
async function inputFingerprint(input: string): Promise<Record<string, string | number | null>> {
  if (input === '-') return { input: '-', input_size: null, input_mtime: null };
  const format = await detectCorpusFormat(input);
  if (format.kind === 'files') {
    // Many files: their order, names, sizes and times (a file added, removed, reordered or changed shifts rows).
    const hash = createHash('sha256');
    for (const f of format.files) {
      const fst = statSync(f);
      hash.update(`${resolve(f)}\0${fst.size}\0${Math.floor(fst.mtimeMs)}\n`);
    }
    return {
      input: resolveInputName(input),
      input_files: format.files.length,
      input_listing: hash.digest('hex').slice(0, 16),
    };
  }
  const abs = resolve(input);
  const st = statSync(abs);
  if (st.isFile()) return { input: abs, input_size: st.size, input_mtime: Math.floor(st.mtimeMs) };
  // A directory's rows are its sorted .txt files: a file added or changed would shift or alter rows.
  const files = await listTextFiles(abs);
  const hash = createHash('sha256');
  for (const f of files) {
    const fst = statSync(join(abs, f));
    hash.update(`${f}\0${fst.size}\0${Math.floor(fst.mtimeMs)}\n`);
  }
  return { input: abs, input_files: files.length, input_listing: hash.digest('hex').slice(0, 16) };
}

type ScoredChunk = ChunkScores & { textSignals: TextSignals[]; tokenEnds: Int32Array; offsets: Int32Array };

/** sentence_nll_sd (null when the tokens cannot be placed on the text) and, with `spanTokens`, spans. */
function positionedSignals(
  text: string,
  scores: ScoredChunk,
  k: number,
  spanTokens: number | undefined,
): PositionedSignals {
  const from = scores.offsets[k]!;
  const to = scores.offsets[k + 1]!;
  const ends = scores.tokenEnds.subarray(from, to);
  if (ends.length < 2 || ends[ends.length - 1]! < 0)
    return { sentence_nll_sd: null, ...(spanTokens ? { spans: null } : {}) };
  const stats = scores.tokenStats.subarray(from * TOKEN_FIELDS.length, to * TOKEN_FIELDS.length);
  const pick = (f: number) => Float64Array.from({ length: to - from }, (_, t) => stats[t * TOKEN_FIELDS.length + f]!);
  const track: TokenTrack = { endChar: charOffsets(text, ends), logp: pick(0), entropy: pick(1), variance: pick(2) };
  return { sentence_nll_sd: sentenceNllSd(text, track), ...(spanTokens ? { spans: spans(track, spanTokens) } : {}) };
}

/** The per-token distribution signals of document k of a chunk (its tokens 1..n; 0 is the start token). */
function distributionOf(scores: ScoredChunk, k: number): TokenDistribution {
  const from = scores.offsets[k]! + 1;
  const to = scores.offsets[k + 1]!;
  const field = (f: (typeof TOKEN_FIELDS)[number]) => {
    const j = TOKEN_FIELDS.indexOf(f);
    return Float64Array.from({ length: to - from }, (_, t) => scores.tokenStats[(from + t) * TOKEN_FIELDS.length + j]!);
  };
  return tokenDistribution(field('logp'), field('entropy'), field('rank'));
}

interface Chunk {
  records: InputRecord[];
  scores: Promise<ScoredChunk>;
}

/** Everything decided before the first row is read: models, scoring settings, and what identifies the run. */
interface RunPlan {
  out: string;
  /** With `shard`: the shard and the directory holding all shards (`out` is its own folder inside). */
  shard?: { spec: ShardSpec; root: string };
  model: ResolvedModel;
  spec: ModelSpec;
  observer?: { model: ResolvedModel; spec: ModelSpec };
  cfg: ScoringConfig;
  workers: number;
  deviceRequest: DeviceRequest;
  chunkDocs: number;
  fingerprint: Checkpoint['fingerprint'];
}

/** Where this attempt starts from (a checkpoint, or nothing) and what it has done so far; updated as rows land. */
interface RunState {
  started: number;
  checkpoint: Checkpoint | null;
  resumedFrom: number;
  counters: Counters;
  attempts: number;
  priorMs: number;
  device: string;
  fallbackReasons: string[];
  /** Each inference worker's provider and device id, once they started (or from the checkpoint). */
  workers?: WorkerDevice[];
}

/**
 * Plan → resume or start → stream the corpus through the model → finish. Each step is idempotent past the last
 * checkpoint, so a run killed anywhere finishes when the same call is made again.
 */
export async function scoreCorpus(opts: ScoreOptions): Promise<RunSummary> {
  const started = Date.now();
  const plan = await planRun(opts);
  if (plan.shard) {
    const finished = await claimShard(plan, opts);
    if (finished) return finished;
  }
  const state = startOrResume(plan, opts, started);
  // A checkpoint that saw the whole input leaves only the finishing steps.
  if (!state.checkpoint?.inputDone) await streamCorpus(plan, state, opts);
  const summary = await finishRun(plan, state, opts);
  if (plan.shard) await markShardDone(plan.out, summary);
  return summary;
}

/**
 * Checks this shard against the run its directory holds (shards.json: count, input, options) and records them when
 * it is the first. Returns the summary of an already finished shard (a no-op rerun), null when there is work to do.
 */
async function claimShard(plan: RunPlan, opts: ScoreOptions): Promise<RunSummary | null> {
  const { spec, root } = plan.shard!;
  try {
    mkdirSync(root, { recursive: true });
  } catch (err) {
    throw new RunStateError(root, `cannot create the output directory (${(err as Error).message})`);
  }
  const { shard: _ownNumber, ...shared } = plan.fingerprint;
  // Checked before the shard's folder exists: a refused shard leaves nothing behind.
  await claimManifest(root, spec.count, shared);
  if (opts.overwrite) {
    rmSync(join(plan.out, SHARD_FILES.done), { force: true });
    return null;
  }
  // Done: the marker, or run.json without a checkpoint (killed between the two: finish by writing the marker).
  if (readShardDone(plan.out) || (existsSync(join(plan.out, SCORE_FILES.run)) && readCheckpoint(plan.out) === null)) {
    const summary = readRun(plan.out);
    await markShardDone(plan.out, summary);
    return summary;
  }
  return null;
}

async function markShardDone(dir: string, summary: RunSummary): Promise<void> {
  if (readShardDone(dir) || !summary.shard) return;
  await writeShardDone(dir, {
    shard: summary.shard.index,
    of: summary.shard.count,
    counts: summary.counts,
    finished_at: summary.finished_at,
  });
}

/** Resolves the models and checks every option before any worker starts (a bad input fails before a model loads). */
async function planRun(opts: ScoreOptions): Promise<RunPlan> {
  const root = resolve(opts.out);
  if (opts.shard) {
    checkSlice(opts.shard);
    if (opts.input === '-')
      throw new UsageError('`shard` needs an input file or directory: stdin cannot be split into shards');
  }
  const shard = opts.shard ? { spec: { source: 'the `shard` option', ...opts.shard }, root } : undefined;
  const out = shard ? join(root, shardDirName(shard.spec.index, shard.spec.count)) : root;
  await detectCorpusFormat(opts.input);
  const model = await resolveModel(opts.model, {
    cacheDir: opts.cacheDir,
    offline: opts.offline,
    onnxFile: opts.onnxFile,
  });
  const spec = readModelSpec(model.dir);
  if (opts.observerOnnxFile !== undefined && opts.observerModel === undefined)
    throw new UsageError('`observerOnnxFile` names a graph of the observer model: give `observerModel` too');
  const observer = opts.observerModel === undefined ? undefined : await resolveObserver(opts, model);
  const maxContext = Math.min(spec.contextLength, observer?.spec.contextLength ?? Infinity);
  const context = opts.context ?? maxContext;
  if (context > maxContext || context < 2)
    throw new UsageError(
      `\`context\` must be in 2..${maxContext} for ${observer ? 'these models' : 'this model'} (got ${context})`,
    );
  const stride = opts.stride ?? Math.max(1, Math.floor(context / 2));
  if (stride < 1 || stride >= context) throw new UsageError(`\`stride\` must be in 1..${context - 1} (got ${stride})`);
  const workers = opts.workers ?? 1;
  const deviceRequest = opts.device ?? 'auto';
  const devices = devicePlan(deviceRequest);
  const threads = opts.threads ?? Math.max(1, Math.floor(defaultThreads() / workers));
  const chunkDocs = opts.chunkDocs ?? 64;
  const cfg: ScoringConfig = {
    onnxPath: model.onnxPath,
    modelDir: model.dir,
    ...(observer ? { observer: { onnxPath: observer.model.onnxPath, modelDir: observer.model.dir } } : {}),
    devices,
    threads: devices[0] === 'cpu' ? threads : 0,
    // On CPU the B×T×V activations of the appended reductions make big batches slower, not faster.
    maxBatch: opts.batchSize ?? (devices[0] === 'cpu' ? 4 : 16),
    maxTokens: opts.maxBatchTokens ?? defaultBatchTokens(devices[0] === 'cpu', context, spec.vocabSize),
    stride,
    context,
  };
  if (cfg.maxTokens < context)
    throw new UsageError(`\`maxBatchTokens\` (got ${cfg.maxTokens}) must be at least the context (${context})`);
  if (cfg.maxBatch < 1) throw new UsageError(`\`batchSize\` must be at least 1 (got ${cfg.maxBatch})`);
  if (opts.spans !== undefined && !(Number.isInteger(opts.spans) && opts.spans >= 1))
    throw new UsageError(`\`spans\` must be a positive number of tokens (got ${opts.spans})`);

  // Everything that changes the rows: a resume with any of it different is refused (checkpoint.ts).
  const fingerprint: Checkpoint['fingerprint'] = {
    ...(await inputFingerprint(opts.input)),
    model: model.onnxPath,
    model_size: statSync(model.onnxPath).size,
    ...(observer
      ? { observer_model: observer.model.onnxPath, observer_model_size: statSync(observer.model.onnxPath).size }
      : {}),
    text_field: opts.textField ?? 'text',
    id_field: opts.idField ?? null,
    context,
    stride,
    batch_size: cfg.maxBatch,
    max_batch_tokens: cfg.maxTokens,
    chunk_docs: chunkDocs,
    max_doc_bytes: opts.maxDocBytes ?? null,
    spans: opts.spans ?? null,
    tool_version: TOOL_VERSION,
    ...(shard ? { shard: `${shard.spec.index}/${shard.spec.count}` } : {}),
  };
  return {
    out,
    ...(shard ? { shard } : {}),
    model,
    spec,
    ...(observer ? { observer } : {}),
    cfg,
    workers,
    deviceRequest,
    chunkDocs,
    fingerprint,
  };
}

/** A fresh run, a resume of the same run, or a refusal (a finished run, other settings, foreign files). */
function startOrResume(plan: RunPlan, opts: ScoreOptions, started: number): RunState {
  const { out } = plan;
  if (opts.overwrite) RunOutputs.remove(out);
  try {
    mkdirSync(out, { recursive: true });
  } catch (err) {
    throw new RunStateError(out, `cannot create the output directory (${(err as Error).message})`);
  }
  const checkpoint = readCheckpoint(out);
  if (checkpoint) {
    assertSameRun(out, checkpoint.fingerprint, plan.fingerprint);
  } else if (existsSync(join(out, SCORE_FILES.run))) {
    throw new RunStateError(
      out,
      'already holds a finished run (run.json); pass `overwrite` to score again, or choose another `out`',
    );
  } else if (existsSync(join(out, SCORE_FILES.scores))) {
    throw new RunStateError(out, 'holds scores.jsonl but no run.json or checkpoint; pass `overwrite` to start over');
  }
  return {
    started,
    checkpoint,
    resumedFrom: checkpoint?.counters.records ?? 0,
    counters: checkpoint ? { ...checkpoint.counters } : { records: 0, scored: 0, errors: 0, tokens: 0 },
    attempts: (checkpoint?.attempts ?? 0) + 1,
    priorMs: checkpoint?.elapsedMs ?? 0,
    device: checkpoint?.device ?? plan.cfg.devices[0]!,
    fallbackReasons: checkpoint?.fallbackReasons ?? [],
    ...(checkpoint?.workers ? { workers: checkpoint.workers } : {}),
  };
}

const elapsedMs = (state: RunState): number => state.priorMs + (Date.now() - state.started);

/**
 * Reads the corpus from where the checkpoint left off, scores chunks concurrently on the worker pools, writes their
 * rows strictly in input order and checkpoints every `checkpointIntervalMs`. On abort, the chunks in flight are
 * written and checkpointed, then InterruptedError is thrown.
 */
async function streamCorpus(plan: RunPlan, state: RunState, opts: ScoreOptions): Promise<void> {
  const { out, fingerprint } = plan;
  const outputs = await RunOutputs.open(out, plan.spec.hiddenSize, state.checkpoint);
  // Ids are line numbers or file paths without an id field: unique, nothing to check.
  const ids =
    opts.idField === undefined
      ? undefined
      : await IdRepeats.open(out, state.checkpoint?.idRepeats).catch(async (err: unknown) => {
          await outputs.close().catch(() => undefined);
          throw err;
        });
  const commit = async (inputDone: boolean): Promise<void> => {
    const sizes = await outputs.sync();
    const idRepeats = await ids?.sync();
    state.checkpoint = {
      version: 1,
      fingerprint,
      counters: { ...state.counters },
      ...sizes,
      ...(idRepeats ? { idRepeats } : {}),
      elapsedMs: elapsedMs(state),
      inputDone,
      attempts: state.attempts,
      device: state.device,
      fallbackReasons: state.fallbackReasons,
      ...(state.workers ? { workers: state.workers } : {}),
      cudaVisibleDevices: process.env.CUDA_VISIBLE_DEVICES ?? null,
    };
    await writeCheckpoint(out, state.checkpoint);
  };
  let pools: ScoringPools | undefined;
  try {
    const pool = (pools = new ScoringPools(plan.cfg, {
      inferWorkers: plan.workers,
      tokenizerWorkers: opts.tokenizerWorkers ?? 1,
    }));
    const startInfo = await pool.start(plan.workers);
    state.device = startInfo.device;
    state.fallbackReasons = startInfo.fallbackReasons;
    state.workers = startInfo.workers;
    opts.onStart?.({
      device: state.device,
      fallbackReasons: state.fallbackReasons,
      resumedFrom: state.resumedFrom,
      model: plan.model,
      ...(plan.observer ? { observer: plan.observer.model } : {}),
    });
    const progress = progressReporter(state, opts.onProgress);
    const { counters } = state;
    let lastCommit = Date.now();
    const writeChunk = async (chunk: Chunk): Promise<void> => {
      const scores = await chunk.scores;
      let d = 0;
      for (const rec of chunk.records) {
        counters.records++;
        if (ids && rec.id !== null) await ids.see(rec.id, rec.file, rec.fileLine ?? rec.line);
        if (rec.kind === 'bad') {
          counters.errors++;
          await outputs.writeError(rec, rec.reason);
          continue;
        }
        const k = d++;
        const failure = scores.failures[k];
        if (failure) {
          counters.errors++;
          await outputs.writeError(rec, failure);
          continue;
        }
        const row = scoreRow(rec.text, scores, k, opts.spans);
        counters.scored++;
        counters.tokens += row.tokens;
        await outputs.writeScore(rec, row, scores.embeddings.subarray(k * scores.dim, (k + 1) * scores.dim));
      }
      if (Date.now() - lastCommit >= (opts.checkpointIntervalMs ?? 2000)) {
        await commit(false);
        lastCommit = Date.now();
      }
      progress();
    };

    // Chunks are scored concurrently but written strictly in input order.
    const inFlight: Chunk[] = [];
    const maxInFlight = plan.workers * 2 + 1;
    const corpus = openCorpus(opts.input, {
      textField: opts.textField,
      idField: opts.idField,
      startIndex: state.resumedFrom,
      ...(plan.shard
        ? { slice: { index: plan.shard.spec.index, count: plan.shard.spec.count, align: plan.chunkDocs } }
        : {}),
      ...(opts.maxDocBytes ? { maxDocBytes: opts.maxDocBytes } : {}),
    });
    for await (const records of chunksOf(corpus, plan.chunkDocs, opts.signal)) {
      const texts = records.flatMap((r) => (r.kind === 'doc' ? [r.text] : []));
      const scores = texts.length > 0 ? pool.score(texts) : Promise.resolve(emptyScores(plan.spec.hiddenSize));
      // Avoid an unhandled rejection while the chunk waits its turn; it is awaited in order.
      scores.catch(() => undefined);
      inFlight.push({ records, scores });
      while (inFlight.length >= maxInFlight) await writeChunk(inFlight.shift()!);
    }
    const interrupted = opts.signal?.aborted === true;
    while (inFlight.length > 0) await writeChunk(inFlight.shift()!);
    await commit(!interrupted);
    await outputs.close();
    await ids?.close();
    if (interrupted) throw new InterruptedError(out, counters.records);
  } catch (err) {
    await outputs.close().catch(() => undefined);
    await ids?.close().catch(() => undefined);
    throw err;
  } finally {
    await pools?.close();
  }
}

/**
 * The corpus in chunks: the rows of input lines (k−1)·chunkDocs+1 .. k·chunkDocs, closed early when their text
 * passes CHUNK_CHARS, so neither huge documents nor runs of bad rows pile up. Chunks are fixed by line numbers, not
 * by where a run started (and end at file ends in a many-file input), because a chunk is scored as one set of batches and batch composition changes the last
 * bits of the scores: a shard (whose slices are aligned to chunkDocs) or a resumed run (which restarts after a
 * committed chunk) thus scores exactly the chunks of one whole run. On abort it stops, and the rows read but not
 * yet yielded are dropped: the checkpoint does not count them.
 */
async function* chunksOf(
  corpus: AsyncIterable<InputRecord>,
  chunkDocs: number,
  signal?: AbortSignal,
): AsyncGenerator<InputRecord[]> {
  let pending: InputRecord[] = [];
  let pendingChars = 0;
  const block = (rec: InputRecord) => Math.floor((rec.line - 1) / chunkDocs);
  for await (const rec of corpus) {
    if (signal?.aborted) return;
    // Blank lines make no rows: a block can end without its last line, seen here as a row of the next block.
    // In a many-file input a chunk also ends with its file, since shards take whole files.
    if (pending.length > 0 && (block(rec) !== block(pending[0]!) || rec.part !== pending[0]!.part)) {
      yield pending;
      pending = [];
      pendingChars = 0;
    }
    pending.push(rec);
    if (rec.kind === 'doc') pendingChars += rec.text.length;
    if (rec.line % chunkDocs === 0 || pendingChars >= CHUNK_CHARS) {
      yield pending;
      pending = [];
      pendingChars = 0;
    }
  }
  if (pending.length > 0 && !signal?.aborted) yield pending;
}

/** One row of scores.jsonl for document k of a chunk: LM signals, per-token distribution, text, positioned. */
function scoreRow(text: string, scores: ScoredChunk, k: number, spanTokens: number | undefined) {
  const s = k * SUM_FIELDS.length;
  const signals = lmSignals({
    tokens: scores.tokens[k]!,
    logp: scores.sums[s]!,
    entropy: scores.sums[s + 1]!,
    logRank: scores.sums[s + 2]!,
    variance: scores.sums[s + 3]!,
    ...(scores.observer ? { crossEntropy: scores.sums[s + 4]! } : {}),
  });
  return {
    ...signals,
    ...distributionOf(scores, k),
    ...scores.textSignals[k]!,
    ...positionedSignals(text, scores, k, spanTokens),
  };
}

/** Progress of this attempt: throughput counts its own rows, not those an earlier process scored. */
function progressReporter(state: RunState, onProgress: ScoreOptions['onProgress']): () => void {
  const base = { tokens: state.counters.tokens, scored: state.counters.scored };
  return () => {
    const secs = Math.max(1e-9, (Date.now() - state.started) / 1000);
    onProgress?.({
      ...state.counters,
      elapsedSeconds: elapsedMs(state) / 1000,
      tokensPerSecond: (state.counters.tokens - base.tokens) / secs,
      docsPerSecond: (state.counters.scored - base.scored) / secs,
      device: state.device,
    });
  };
}

/**
 * The partial files are complete (headers patched, synced) once the checkpoint says inputDone, and every step here
 * is idempotent, so a run killed here finishes on restart: files into place, Parquet, run.json, checkpoint removed.
 */
async function finishRun(plan: RunPlan, state: RunState, opts: ScoreOptions): Promise<RunSummary> {
  const { out, model, spec, observer, cfg, fingerprint, counters } = { ...plan, counters: state.counters };
  RunOutputs.moveIntoPlace(out);
  // The counts are in the checkpoint once the input is done: the hash log is no longer needed.
  IdRepeats.remove(out);
  const written: Record<string, string> = {
    scores: SCORE_FILES.scores,
    errors: SCORE_FILES.errors,
    embeddings: SCORE_FILES.embeddings,
  };
  // A shard may have no rows, and a Parquet schema needs one: merge writes the Parquet of the whole input.
  if (opts.format === 'parquet' && !(plan.shard && counters.scored === 0)) {
    await jsonlToParquet(join(out, SCORE_FILES.scores), join(out, SCORE_FILES.parquet), {
      integerFields: ['line', 'tokens'],
    });
    written.parquet = SCORE_FILES.parquet;
  }
  const wall = elapsedMs(state) / 1000;
  const summary: RunSummary = {
    tool: { name: 'tailguard', version: TOOL_VERSION },
    command: 'score',
    input: resolveInputName(opts.input),
    out,
    model: {
      ref: model.ref,
      dir: model.dir,
      onnx: model.onnxPath,
      source: model.source,
      model_type: spec.modelType,
      hidden_size: spec.hiddenSize,
      context_length: spec.contextLength,
      ...(observer
        ? { observer: { ref: observer.model.ref, dir: observer.model.dir, onnx: observer.model.onnxPath } }
        : {}),
    },
    device: {
      requested: plan.deviceRequest,
      used: state.device,
      fallback_reasons: state.fallbackReasons,
      ...(state.workers ? { workers: state.workers } : {}),
      cuda_visible_devices: state.checkpoint?.cudaVisibleDevices ?? process.env.CUDA_VISIBLE_DEVICES ?? null,
    },
    options: { ...fingerprint, workers: plan.workers, threads: cfg.threads, format: opts.format ?? 'jsonl' },
    counts: { input_rows: counters.records, scored: counters.scored, errors: counters.errors },
    duplicate_ids: state.checkpoint?.idRepeats?.found ?? UNCHECKED_IDS,
    tokens: counters.tokens,
    wall_seconds: wall,
    tokens_per_second: counters.tokens / Math.max(wall, 1e-9),
    docs_per_second: counters.scored / Math.max(wall, 1e-9),
    attempts: state.attempts,
    outputs: written,
    finished_at: new Date().toISOString(),
    ...(plan.shard
      ? { shard: { index: plan.shard.spec.index, count: plan.shard.spec.count, source: plan.shard.spec.source ?? '' } }
      : {}),
  };
  await writeFileAtomic(join(out, SCORE_FILES.run), `${JSON.stringify(summary, null, 2)}\n`);
  removeCheckpoint(out);
  return summary;
}

/** The observer model, checked to tokenize exactly as the scoring model does. */
async function resolveObserver(
  opts: ScoreOptions,
  model: ResolvedModel,
): Promise<{ model: ResolvedModel; spec: ModelSpec }> {
  const observer = await resolveModel(opts.observerModel, {
    cacheDir: opts.cacheDir,
    offline: opts.offline,
    onnxFile: opts.observerOnnxFile,
  });
  if (!sameTokenizer(model.dir, observer.dir)) {
    throw new UsageError(
      `the observer model ${observer.ref} does not share ${model.ref}'s tokenizer: Binoculars compares two models' predictions of the same tokens (choose an observer trained with the same tokenizer.json)`,
    );
  }
  return { model: observer, spec: readModelSpec(observer.dir) };
}

function emptyScores(dim: number): ScoredChunk {
  const none = { tokenStats: new Float32Array(0), tokenEnds: new Int32Array(0), offsets: new Int32Array(1) };
  return {
    tokens: new Int32Array(0),
    observer: false,
    sums: new Float64Array(0),
    embeddings: new Float32Array(0),
    dim,
    failures: [],
    textSignals: [],
    ...none,
  };
}
