/**
 * Coverage of one candidate split over separate tasks (docs/scale-out.md#coverage-in-shards), by exact search:
 *
 *   coverageShard   shard I of N takes the candidate rows evenSplit(M, I/N) and writes OUT/shard-0000I-of-0000N/:
 *                   per reference point its radius (from the whole reference, the same in every shard), its nearest
 *                   candidate among the shard's rows and whether a ball of one of them holds it; per shard candidate
 *                   its radius (its k-NN among all candidates: exact-search.ts over the whole candidate set) and how
 *                   many reference balls hold it. part.json, written last, marks the shard done; a done shard run
 *                   again is a no-op. OUT/coverage-shards.json records the count and settings; another is refused.
 *   coverageReduce  concatenates the candidates' counts, takes each reference point's nearest candidate as the
 *                   smallest over shards and its candidate-ball flag as any shard's (so a point is covered when any
 *                   shard covers it), then computes the metrics, the k-means regions of the reference (once, here)
 *                   and the outputs exactly as one run does (writeCoverage): the same metrics, CIs, regions and
 *                   per-document files as `coverage --search exact`.
 *   coveragePrepare optional, before the shards: the reference radii (N² pairs) once, into OUT/reference-radii/;
 *                   a shard finding them (same reference, k, metric and frame) reads them instead of recomputing.
 * Every value is that of a float64 loop over every pair (exact-prdc.ts's contract), so how rows are split, and
 * whether the radii were prepared, does not change any of them. Every shard reads every candidate row.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { RunStateError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { checkSlice, evenSplit } from '../io/corpus-slice.js';
import type { OnProgress } from '../progress.js';
import { TOOL_VERSION } from '../version.js';
import { prdcMetrics } from './prdc-metrics.js';
import {
  exactDevicePlan,
  neighbourOptions,
  regions,
  writeCoverage,
  type ExactDeviceRequest,
  type SearchResult,
} from './coverage-run.js';
import { tileBalls, tileRadii, type ExactSearchStats, type TileRadiiResult } from './exact/exact-prdc.js';
import { exactNeighbours } from './exact/exact-search.js';
import { meanRow, prepare } from './exact/blocks.js';
import { DEFAULT_TILE, TileRunner } from './exact/tiles.js';
import type { CoverageReport } from './report.js';
import { exactWork, EXACT_WORK_BUDGET } from './search-choice.js';
import { ANCHOR_FRAME_FILE, intoAnchorFrame, type FrameRequest } from './anchor-frame.js';
import { loadComparable, loadVectors, subset, type DistanceMetric } from './vectors.js';

export const COVERAGE_SHARD_FILES = {
  manifest: 'coverage-shards.json',
  part: 'part.json',
  /** coveragePrepare's folder and its marker, written last. */
  prepared: 'reference-radii',
  preparedMarker: 'reference-radii.json',
} as const;

/** The prepared radii and their squares as the tiles summed them (both needed: a ball test reads the square). */
const PREPARED_ARRAYS = { radii: 'reference-radius.f64', squared: 'reference-radius-squared.f64' } as const;

/** The per-point arrays of a part, raw little-endian (numpy: np.fromfile(path, dtype)). */
const ARRAYS = {
  refRadius: { file: 'reference-radius.f64', type: Float64Array },
  refNearest: { file: 'reference-nearest-candidate.f64', type: Float64Array },
  refInCandidate: { file: 'reference-in-candidate-manifold.u8', type: Uint8Array },
  candRadius: { file: 'candidate-radius.f64', type: Float64Array },
  candBalls: { file: 'candidate-balls.i32', type: Int32Array },
} as const;

/** whiten (default true), anchorFrame, frameMethod: as coverageRun's; every shard must be given the same. */
export interface CoverageShardOptions extends FrameRequest {
  reference: string;
  candidate: string;
  /** The directory all shards write into (each its own folder) and the reduce writes the report to. */
  out: string;
  shard: { index: number; count: number; source?: string };
  k?: number;
  metric?: DistanceMetric;
  /** Used by the reduce: the bootstrap and k-means seed, and the k-means regions. */
  seed?: number;
  clusters?: number;
  device?: ExactDeviceRequest;
  exactTile?: number;
  threads?: number;
  onProgress?: OnProgress;
}

/** Settings every shard shares, and what the reduce needs to finish the report. */
interface Settings {
  reference: string;
  candidate: string;
  reference_documents: number;
  candidate_documents: number;
  dim: number;
  k: number;
  metric: DistanceMetric;
  seed: number;
  clusters: number;
  /** 'none' (whitening off), the reused anchor-frame.json, or the method of a frame fitted on the reference. */
  frame: string;
  tool_version: string;
}

interface Manifest {
  format: 'tailguard-coverage-shards';
  version: 1;
  shards: number;
  settings: Settings;
}

/** What the reference radii depend on: a shard reads prepared radii only when all of these agree. */
type RadiiSettings = Pick<
  Settings,
  'reference' | 'reference_documents' | 'dim' | 'k' | 'metric' | 'frame' | 'tool_version'
>;

export interface PreparedRadii {
  format: 'tailguard-coverage-reference-radii';
  version: 1;
  settings: RadiiSettings;
  /** Reference points whose radius exact-search.ts settled again (as in a part's exact_search). */
  researched: number;
  files: typeof PREPARED_ARRAYS;
  finished_at: string;
}

export interface CoveragePart {
  format: 'tailguard-coverage-part';
  version: 1;
  shard: { index: number; count: number; source: string };
  /** Where this shard's reference radii came from: computed here, or read from OUT/reference-radii/. */
  reference_radii: 'computed' | 'prepared';
  /** Candidate rows [from, to) of this shard. */
  rows: { from: number; to: number };
  exact_search: ExactSearchStats;
  files: Record<keyof typeof ARRAYS, string>;
  finished_at: string;
}

const pad = (n: number): string => String(n).padStart(5, '0');
export const coverageShardDir = (index: number, count: number): string => `shard-${pad(index)}-of-${pad(count)}`;

function readJson<T>(path: string, what: string): T | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new RunStateError(path, `${what} is unreadable (${(err as Error).message})`);
  }
}

/** "key: <had> X, this one Y" for each setting of `want` that `have` records otherwise. */
function settingsDiff<S extends object>(have: S, want: S, had: string): string[] {
  return (Object.keys(want) as (keyof S)[])
    .filter((key) => have[key] !== want[key])
    .map((key) => `${String(key)}: ${had} ${String(have[key])}, this one ${String(want[key])}`);
}

async function claim(root: string, shards: number, settings: Settings): Promise<void> {
  const path = join(root, COVERAGE_SHARD_FILES.manifest);
  const m = readJson<Manifest>(path, COVERAGE_SHARD_FILES.manifest);
  if (!m) {
    const manifest: Manifest = { format: 'tailguard-coverage-shards', version: 1, shards, settings };
    await writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`);
    return;
  }
  if (m.shards !== shards)
    throw new RunStateError(root, `holds coverage split into ${m.shards} shards, and this one asks for ${shards}`);
  const diffs = settingsDiff(m.settings, settings, 'shards have');
  if (diffs.length)
    throw new RunStateError(
      root,
      `holds coverage shards with other settings (${diffs.join('; ')}): every shard must use the same sets and options`,
    );
}

const frameSetting = (r: FrameRequest): string =>
  r.whiten === false ? 'none' : r.anchorFrame ? resolve(r.anchorFrame) : (r.frameMethod ?? r.method ?? 'whiten');

/** Coverage of candidate shard `shard` against the whole reference (see the header). Returns its part. */
export async function coverageShard(opts: CoverageShardOptions): Promise<CoveragePart> {
  const { k, metric } = neighbourOptions(opts);
  checkSlice(opts.shard);
  const ref = loadVectors(opts.reference, { metric });
  const cand = loadComparable(opts.candidate, ref, { metric });
  if (ref.ids.length <= k || cand.ids.length <= k)
    throw new UsageError(
      `both sets need more than k = ${k} documents (reference ${ref.ids.length}, candidate ${cand.ids.length})`,
    );
  const root = resolve(opts.out);
  mkdirSync(root, { recursive: true });
  const radiiSettings = radiiSettingsOf(opts, ref, k, metric);
  await claim(root, opts.shard.count, {
    ...radiiSettings,
    candidate: resolve(opts.candidate),
    candidate_documents: cand.ids.length,
    seed: opts.seed ?? 1,
    clusters: opts.clusters ?? 32,
  });
  const dir = join(root, coverageShardDir(opts.shard.index, opts.shard.count));
  const done = readJson<CoveragePart>(join(dir, COVERAGE_SHARD_FILES.part), COVERAGE_SHARD_FILES.part);
  if (done) return done;
  mkdirSync(dir, { recursive: true });
  // Every shard fits the same frame on the same reference (deterministic); each keeps its copy, the reduce reads shard 0's.
  await intoAnchorFrame(ref, [cand], metric, opts, join(dir, ANCHOR_FRAME_FILE));

  const prepared = readPrepared(root, radiiSettings);
  const { from, to } = evenSplit(cand.ids.length, opts.shard);
  const threads = opts.threads ?? availableParallelism();
  const runner = await TileRunner.start(exactDevicePlan(opts.device ?? 'auto'), threads);
  let arrays: Record<keyof typeof ARRAYS, ArrayBufferView>;
  let stats: ExactSearchStats;
  try {
    const tile = tileSize(opts, runner);
    const centre = meanRow(ref);
    const R = prepare(ref, tile, centre);
    const refRadii = prepared ?? (await tileRadii(R, k, runner));
    const rows = Array.from({ length: to - from }, (_, t) => from + t);
    const mine = subset(cand, rows);
    // This shard's candidates' radii among all candidates, as tileRadii over the whole set would give them.
    const near = await exactNeighbours(cand, mine.data, k + 1);
    const radii = Float64Array.from(near, (n) => n.distances[Math.min(k, n.distances.length - 1)] ?? 0);
    const candRadii = { radii, squared: radii.map((r) => r * r), researched: 0 };
    const found = rows.length
      ? await tileBalls(R, prepare(mine, tile, centre), refRadii, candRadii, runner)
      : {
          balls: new Int32Array(0),
          inCandidateManifold: new Uint8Array(ref.ids.length),
          nearestCandidate: new Float64Array(ref.ids.length).fill(Infinity),
          rechecked: 0,
          researched: 0,
        };
    arrays = {
      refRadius: refRadii.radii,
      refNearest: found.nearestCandidate,
      refInCandidate: found.inCandidateManifold,
      candRadius: radii,
      candBalls: found.balls,
    };
    stats = {
      device: runner.device,
      fallback_reasons: runner.fallbackReasons,
      threads,
      tile,
      rechecked_pairs: found.rechecked,
      researched: { reference_radii: refRadii.researched, candidate_radii: 0, nearest_candidates: found.researched },
    };
  } finally {
    await runner.release();
  }
  for (const key of Object.keys(ARRAYS) as (keyof typeof ARRAYS)[]) {
    const a = arrays[key];
    await writeFileAtomic(join(dir, ARRAYS[key].file), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  const part: CoveragePart = {
    format: 'tailguard-coverage-part',
    version: 1,
    shard: { index: opts.shard.index, count: opts.shard.count, source: opts.shard.source ?? 'the `shard` option' },
    reference_radii: prepared ? 'prepared' : 'computed',
    rows: { from, to },
    exact_search: stats,
    files: Object.fromEntries(Object.entries(ARRAYS).map(([key, v]) => [key, v.file])) as CoveragePart['files'],
    finished_at: new Date().toISOString(),
  };
  await writeFileAtomic(join(dir, COVERAGE_SHARD_FILES.part), `${JSON.stringify(part, null, 2)}\n`);
  return part;
}

function radiiSettingsOf(
  opts: FrameRequest & { reference: string },
  ref: { ids: string[]; dim: number },
  k: number,
  metric: DistanceMetric,
): RadiiSettings {
  return {
    reference: resolve(opts.reference),
    reference_documents: ref.ids.length,
    dim: ref.dim,
    k,
    metric,
    frame: frameSetting(opts),
    tool_version: TOOL_VERSION,
  };
}

/** The marker of radii coveragePrepare finished in `root` with `settings`; none yet; refused when made with others. */
function preparedMarker(root: string, settings: RadiiSettings): PreparedRadii | undefined {
  const dir = join(root, COVERAGE_SHARD_FILES.prepared);
  const done = readJson<PreparedRadii>(join(dir, COVERAGE_SHARD_FILES.preparedMarker), 'reference-radii.json');
  if (!done) return undefined;
  const diffs = settingsDiff(done.settings, settings, 'prepared with');
  if (diffs.length)
    throw new RunStateError(
      dir,
      `holds reference radii prepared with other settings (${diffs.join('; ')}): prepare again or use another \`out\``,
    );
  return done;
}

/** The prepared radii in `root` (see preparedMarker), read for a shard. */
function readPrepared(root: string, settings: RadiiSettings): TileRadiiResult | undefined {
  const done = preparedMarker(root, settings);
  if (!done) return undefined;
  const dir = join(root, COVERAGE_SHARD_FILES.prepared);
  const n = settings.reference_documents;
  return {
    radii: readRaw(join(dir, PREPARED_ARRAYS.radii), Float64Array, n),
    squared: readRaw(join(dir, PREPARED_ARRAYS.squared), Float64Array, n),
    researched: done.researched,
  };
}

/** The exact search's tile size: `exactTile`, else the device's default. */
function tileSize(opts: { exactTile?: number }, runner: TileRunner): number {
  const tile = opts.exactTile ?? DEFAULT_TILE[runner.device];
  if (!(Number.isInteger(tile) && tile >= 1))
    throw new UsageError(`\`exactTile\` must be a positive integer (got ${tile})`);
  return tile;
}

export type CoveragePrepareOptions = Omit<CoverageShardOptions, 'candidate' | 'shard' | 'seed' | 'clusters'>;

/**
 * The reference radii once for every shard of `out` (see the header), in the reference's frame fitted as a shard
 * fits it. A finished preparation with the same settings is a no-op; one with other settings is refused.
 */
export async function coveragePrepare(opts: CoveragePrepareOptions): Promise<PreparedRadii> {
  const { k, metric } = neighbourOptions(opts);
  const ref = loadVectors(opts.reference, { metric });
  if (ref.ids.length <= k)
    throw new UsageError(`the reference needs more than k = ${k} documents (it has ${ref.ids.length})`);
  const root = resolve(opts.out);
  const dir = join(root, COVERAGE_SHARD_FILES.prepared);
  const settings = radiiSettingsOf(opts, ref, k, metric);
  const already = preparedMarker(root, settings);
  if (already) return already;
  mkdirSync(dir, { recursive: true });
  await intoAnchorFrame(ref, [], metric, opts, join(dir, ANCHOR_FRAME_FILE));
  const runner = await TileRunner.start(exactDevicePlan(opts.device ?? 'auto'), opts.threads ?? availableParallelism());
  let radii: TileRadiiResult;
  try {
    const tile = tileSize(opts, runner);
    radii = await tileRadii(prepare(ref, tile, meanRow(ref)), k, runner);
  } finally {
    await runner.release();
  }
  for (const key of ['radii', 'squared'] as const) {
    const a = radii[key];
    await writeFileAtomic(join(dir, PREPARED_ARRAYS[key]), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  const done: PreparedRadii = {
    format: 'tailguard-coverage-reference-radii',
    version: 1,
    settings,
    researched: radii.researched,
    files: PREPARED_ARRAYS,
    finished_at: new Date().toISOString(),
  };
  await writeFileAtomic(join(dir, COVERAGE_SHARD_FILES.preparedMarker), `${JSON.stringify(done, null, 2)}\n`);
  return done;
}

type ArrayType = Float64Array | Int32Array | Uint8Array;

/** A raw little-endian array of `length` values of `type` (a part's or the prepared radii's), its size checked. */
function readRaw<T extends ArrayType>(
  path: string,
  type: { new (buffer: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
  length: number,
): T {
  const bytes = readFileSync(path);
  if (bytes.byteLength !== length * type.BYTES_PER_ELEMENT)
    throw new RunStateError(path, `holds ${bytes.byteLength} bytes, expected ${length} values`);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new type(copy.buffer);
}

function readArray<K extends keyof typeof ARRAYS>(
  dir: string,
  key: K,
  length: number,
): InstanceType<(typeof ARRAYS)[K]['type']> {
  const { file, type } = ARRAYS[key];
  return readRaw<ArrayType>(join(dir, file), type, length) as InstanceType<(typeof ARRAYS)[K]['type']>;
}

export interface CoverageReduceOptions {
  /** The directory the shards wrote into; the report goes there too. */
  out: string;
  /** Where the reference's k-means regions run (exact search's tiles). */
  device?: ExactDeviceRequest;
  threads?: number;
}

/** The report of one run, from the parts of every shard (see the header); refused while some are not done. */
export async function coverageReduce(opts: CoverageReduceOptions): Promise<CoverageReport> {
  const root = resolve(opts.out);
  const manifest = readJson<Manifest>(join(root, COVERAGE_SHARD_FILES.manifest), COVERAGE_SHARD_FILES.manifest);
  if (!manifest || manifest.format !== 'tailguard-coverage-shards')
    throw new RunStateError(root, `holds no coverage shards (no ${COVERAGE_SHARD_FILES.manifest})`);
  const { settings: s, shards } = manifest;
  const dirs = Array.from({ length: shards }, (_, i) => join(root, coverageShardDir(i, shards)));
  const parts = dirs.map((d) => readJson<CoveragePart>(join(d, COVERAGE_SHARD_FILES.part), 'part.json'));
  const missing = parts.flatMap((p, i) => (p ? [] : [i]));
  if (missing.length)
    throw new RunStateError(
      root,
      `coverage shards ${missing.join(', ')} of ${shards} are not done: run them (--shard I/${shards}) before the reduce`,
    );
  const ref = loadVectors(s.reference, { metric: s.metric });
  const cand = loadComparable(s.candidate, ref, { metric: s.metric });
  if (ref.ids.length !== s.reference_documents || cand.ids.length !== s.candidate_documents)
    throw new RunStateError(root, 'the reference or candidate changed size since the shards ran');
  const { summary: frame } = await intoAnchorFrame(
    ref,
    [cand],
    s.metric,
    (s.frame ?? 'none') === 'none' ? { whiten: false } : { anchorFrame: join(dirs[0]!, ANCHOR_FRAME_FILE) },
    join(root, ANCHOR_FRAME_FILE),
  );
  const N = ref.ids.length;
  const M = cand.ids.length;
  const radius = readArray(dirs[0]!, 'refRadius', N);
  const nearestCandidate = new Float64Array(N).fill(Infinity);
  const inCandidateManifold = new Uint8Array(N);
  const balls = new Int32Array(M);
  let next = 0;
  const sum = { rechecked: 0, refRadii: 0, nearest: 0 };
  parts.forEach((p, i) => {
    const { from, to } = p!.rows;
    if (from !== next) throw new RunStateError(dirs[i]!, `starts at candidate row ${from}, expected ${next}`);
    next = to;
    if (!Buffer.from(readArray(dirs[i]!, 'refRadius', N).buffer).equals(Buffer.from(radius.buffer)))
      throw new RunStateError(dirs[i]!, 'has other reference radii than shard 0: the shards saw different references');
    const near = readArray(dirs[i]!, 'refNearest', N);
    const inCand = readArray(dirs[i]!, 'refInCandidate', N);
    for (let r = 0; r < N; r++) {
      if (near[r]! < nearestCandidate[r]!) nearestCandidate[r] = near[r]!;
      if (inCand[r]) inCandidateManifold[r] = 1;
    }
    balls.set(readArray(dirs[i]!, 'candBalls', to - from), from);
    sum.rechecked += p!.exact_search.rechecked_pairs;
    sum.refRadii += p!.exact_search.researched.reference_radii;
    sum.nearest += p!.exact_search.researched.nearest_candidates;
  });
  if (next !== M) throw new RunStateError(root, `the shards cover candidate rows 0..${next - 1} of ${M}`);
  const covered = Uint8Array.from(nearestCandidate, (d, r) => (d <= radius[r]! ? 1 : 0));
  const inManifold = Uint8Array.from(balls, (c) => (c > 0 ? 1 : 0));
  const first = parts[0]!.exact_search;
  const res: SearchResult = {
    ...prdcMetrics({ balls, inManifold, inCandidateManifold, covered }, s.k, s.seed),
    reference: { radius, nearestCandidate, covered },
    candidate: { balls, inManifold },
    exact: {
      ...first,
      fallback_reasons: [...new Set(parts.flatMap((p) => p!.exact_search.fallback_reasons))],
      rechecked_pairs: sum.rechecked,
      // Every shard recomputes the reference radii: the count is shard 0's.
      researched: {
        reference_radii: first.researched.reference_radii,
        candidate_radii: 0,
        nearest_candidates: sum.nearest,
      },
    },
  };
  const runner = await TileRunner.start(exactDevicePlan(opts.device ?? 'auto'), opts.threads ?? availableParallelism());
  try {
    const reg = await regions(ref, cand, covered, s.clusters, s.seed, runner);
    const work = exactWork(N, M, ref.dim);
    return await writeCoverage({
      ref,
      cand,
      k: s.k,
      metric: s.metric,
      choice: {
        requested: 'exact',
        used: 'exact',
        reason: `exact search in ${shards} candidate shards (coverage --shard), reduced`,
        work,
        budget: EXACT_WORK_BUDGET,
        device: first.device,
      },
      res,
      reg,
      out: root,
      reference: s.reference,
      candidate: s.candidate,
      frame,
      shards,
    });
  } finally {
    await runner.release();
  }
}
