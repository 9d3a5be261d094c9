/**
 * Embedding sets for coverage: a `tailguard score` output directory (embeddings.npy, ids from scores.jsonl) or an
 * .npy file (float32 N×d; ids from a JSONL file of the same basename, field `id`, when one exists, else row
 * numbers). Distances are Euclidean; with the metric `cosine` (the default) rows are L2-normalised on load, so they
 * are Euclidean on the unit sphere (a monotone function of cosine similarity); with `euclidean` rows are used as given.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { readNpy } from '../io/npy-writer.js';
import { forEachJsonlRowSync } from '../io/jsonl-rows-sync.js';
import { SCORE_FILES, scoreDirParts } from '../score/score-dir.js';

export interface VectorSet {
  source: string;
  ids: string[];
  dim: number;
  /** Row-major N×dim: L2-normalised rows (metric `cosine`), or the rows as stored (`euclidean`). */
  data: Float32Array;
}

/**
 * How coverage measures distance: `cosine` = Euclidean between L2-normalised rows (what LM embeddings want, and
 * what tailguard always did); `euclidean` = Euclidean between the rows as given (the prdc paper's own setting).
 */
export type DistanceMetric = 'cosine' | 'euclidean';

export const DISTANCE_METRICS: readonly DistanceMetric[] = ['cosine', 'euclidean'];

/** `metric` (default cosine), checked. */
export function checkMetric(metric: DistanceMetric = 'cosine'): DistanceMetric {
  if (!DISTANCE_METRICS.includes(metric))
    throw new UsageError(`\`metric\` must be one of ${DISTANCE_METRICS.join(', ')} (got ${String(metric)})`);
  return metric;
}

export interface LoadOptions {
  /** Default `cosine`: rows L2-normalised on load. */
  metric?: DistanceMetric;
}

/** The `id` of every row of a JSONL file (row numbers from 1 where a row has none), streamed. */
function jsonlIds(path: string): string[] {
  const ids: string[] = [];
  forEachJsonlRowSync(path, ({ id }, i) => ids.push(id === undefined || id === null ? String(i + 1) : String(id)));
  return ids;
}

/**
 * For a score output directory, the corpus line of each of `rows` (row i of its embeddings is row i of scores.jsonl):
 * what tells rows with the same id apart. Undefined for an .npy, whose rows have no corpus line.
 */
export function scoreRowLines(path: string, rows: Iterable<number>): Map<number, number> | undefined {
  if (!statSync(path).isDirectory()) return undefined;
  const wanted = new Set(rows);
  const lines = new Map<number, number>();
  let complete = true;
  let offset = 0;
  for (const dir of scoreDirParts(path)) {
    let count = 0;
    forEachJsonlRowSync(join(dir, SCORE_FILES.scores), ({ line }, i) => {
      count++;
      if (!wanted.has(offset + i)) return;
      if (typeof line === 'number') lines.set(offset + i, line);
      else complete = false;
    });
    offset += count;
  }
  return complete && lines.size === wanted.size ? lines : undefined;
}

export function normaliseRows(data: Float32Array, dim: number): void {
  for (let r = 0; r * dim < data.length; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += data[r * dim + j]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) data[r * dim + j] = data[r * dim + j]! * inv;
  }
}

export function loadVectors(path: string, opts: LoadOptions = {}): VectorSet {
  if (!existsSync(path)) throw new UsageError(`${path}: no such file or directory`);
  let parts: { npy: string; idsFrom: string | null }[];
  if (statSync(path).isDirectory()) {
    // A sharded score directory reads as its shards in order (score-dir.ts; refused while shards are unfinished).
    parts = scoreDirParts(path).map((dir) => ({
      npy: join(dir, SCORE_FILES.embeddings),
      idsFrom: join(dir, SCORE_FILES.scores),
    }));
    const missing = parts.find((p) => !existsSync(p.npy));
    if (missing) throw new UsageError(`${path} is not a score output directory (no ${missing.npy})`);
  } else {
    if (!path.endsWith('.npy')) throw new UsageError(`${path}: expected a score output directory or an .npy file`);
    const idsFrom = path.replace(/\.npy$/, '.jsonl');
    parts = [{ npy: path, idsFrom: existsSync(idsFrom) ? idsFrom : null }];
  }
  const loaded = parts.map(({ npy, idsFrom }) => {
    const { shape, data } = readNpy(npy);
    const [n, dim] = shape;
    const ids = idsFrom ? jsonlIds(idsFrom) : Array.from({ length: n }, (_, i) => String(i));
    if (ids.length !== n) throw new UsageError(`${idsFrom} has ${ids.length} rows, ${npy} has ${n}`);
    return { data, dim, ids };
  });
  const dim = loaded[0]!.dim;
  const odd = loaded.find((l) => l.dim !== dim);
  if (odd) throw new UsageError(`${path}: its shards hold ${dim}-d and ${odd.dim}-d embeddings`);
  const data = loaded.length === 1 ? loaded[0]!.data : concatFloat32(loaded.map((l) => l.data));
  const ids = loaded.flatMap((l) => l.ids);
  if ((opts.metric ?? 'cosine') === 'cosine') normaliseRows(data, dim);
  return { source: path, ids, dim, data };
}

function concatFloat32(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Loads `path` to compare with `reference`: the same embedding dimension, or a clear error. */
export function loadComparable(path: string, reference: VectorSet, opts: LoadOptions = {}): VectorSet {
  const set = loadVectors(path, opts);
  if (set.dim !== reference.dim) {
    throw new UsageError(
      `reference vectors are ${reference.dim}-d, candidate vectors ${set.dim}-d (${path}): embed both with the same model`,
    );
  }
  return set;
}

export function row(set: { data: Float32Array; dim: number }, i: number): number[] {
  return Array.from(set.data.subarray(i * set.dim, (i + 1) * set.dim));
}

/** The rows `rows` of `set`, copied into a set of their own (ids kept). */
export function subset(set: VectorSet, rows: ArrayLike<number>): VectorSet {
  const data = new Float32Array(rows.length * set.dim);
  const ids: string[] = [];
  for (let t = 0; t < rows.length; t++) {
    data.set(set.data.subarray(rows[t]! * set.dim, (rows[t]! + 1) * set.dim), t * set.dim);
    ids.push(set.ids[rows[t]!]!);
  }
  return { source: set.source, ids, dim: set.dim, data };
}

/** Squared Euclidean distance between row `ai` of `a` and row `bi` of `b` (a query is a one-row `b` with bi = 0). */
export function squaredDistance(
  a: ArrayLike<number>,
  ai: number,
  b: ArrayLike<number>,
  bi: number,
  dim: number,
): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += (a[ai * dim + j]! - b[bi * dim + j]!) ** 2;
  return s;
}

/** How a report names one of its input sets. */
export interface SetSummary {
  source: string;
  documents: number;
}

export function setSummary(path: string, set: VectorSet): SetSummary {
  return { source: resolve(path), documents: set.ids.length };
}

/** `set` with its rows in shared memory (copied once if they are not), so worker threads read them without a copy. */
export function sharedVectors(set: VectorSet): VectorSet {
  if (set.data.buffer instanceof SharedArrayBuffer) return set;
  const data = new Float32Array(new SharedArrayBuffer(set.data.byteLength));
  data.set(set.data);
  return { ...set, data };
}
