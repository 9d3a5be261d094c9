/**
 * `coverageRun`: how well a candidate corpus covers a human reference in embedding space.
 *
 * Distances: `metric` cosine (default; rows L2-normalised) or euclidean (rows as given). Neighbours: `search` exact
 * (every pair, blocked matrix products: exact/exact-prdc.ts), hnsw (HNSW indexes: prdc.ts), or auto (default;
 * search-choice.ts: exact on a GPU or while the work is small, HNSW beyond).
 *
 * Outputs in `out`:
 *   report.json           precision, recall, density, coverage (value + 95% CI), k, metric, the search used and why;
 *                         with HNSW balls over the probe cap, index parameters, recall@k of the index against exact
 *                         search on a sample; with exact search its device and the pairs it settled in float64;
 *                         counts, and the reference's regions (k-means) with reference vs candidate share, coverage
 *                         and example documents (ids, and texts when the reference's corpus can be read) per region;
 *                         thin/absent = tails
 *                         and each region's label: its most distinctive words (c-TF-IDF, region-labels.ts)
 *   reference.jsonl       per reference document: id, covered, radius, nearest_candidate, region, region_label
 *   candidate.jsonl       per candidate document: id, density (reference balls holding it / k), in_reference_manifold,
 *                         region (its nearest reference region), region_label (null without reference texts)
 *   reference.hnsw(.json) the reference index (hnswlib), reusable (HNSW search only)
 *   anchor-frame.json     the reference's frame both sets were measured in (anchor-frame.ts; not with `whiten` false)
 *   report.html           the same, readable: metrics, region shares and coverage, a 2-D map with the tails marked
 * Nothing here is joined by id: every row is kept and matched by position, so ids may repeat; report.json counts the
 * repeats (`duplicate_ids`) so that whoever joins the per-document files by id knows to join by row order instead.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { devicePlan } from '../lm/device.js';
import type { OnProgress } from '../progress.js';
import { writeFileAtomic } from '../io/atomic.js';
import { JsonlWriter } from '../io/jsonl-writer.js';
import { DEFAULT_INDEX_PARAMS, recallAgainstExact, recallRows, type IndexParams } from './hnsw/ann-index.js';
import type { RecallTarget } from './hnsw/ef-tuning.js';
import { exactPrdc, type ExactSearchStats } from './exact/exact-prdc.js';
import { TileRunner, type ExactDevice } from './exact/tiles.js';
import { buildIndexPair } from './workers/index-pair.js';
import { prdc, type PrdcResult } from './hnsw/prdc.js';
import type { PrdcMetrics } from './prdc-metrics.js';
import {
  afterDevice,
  checkSearchRequest,
  chooseSearch,
  exactWork,
  hnswOptionsGiven,
  type SearchChoice,
  type SearchRequest,
} from './search-choice.js';
import { coverageHtml, type MapPoint } from './report-html.js';
import { pca2 } from '../report/pca.js';
import { repeatedIds, repeatsReport } from '../io/repeated-ids.js';
import {
  assignAll,
  clusterTableWithRows,
  kmeans,
  kmeansWith,
  perCluster,
  type ClusterRow,
  type Clustering,
} from './clusters.js';
import { nearestCentroids } from './exact/centroids.js';
import { withExampleTexts } from './example-texts.js';
import { regionLabels } from './region-labels.js';
import { ANCHOR_FRAME_FILE, intoAnchorFrame, type FrameRequest, type FrameSummary } from './anchor-frame.js';
import {
  checkMetric,
  loadComparable,
  loadVectors,
  setSummary,
  sharedVectors,
  type DistanceMetric,
  type VectorSet,
} from './vectors.js';

/** --device of coverage: where exact search runs. */
export type ExactDeviceRequest = 'auto' | 'cpu' | 'cuda';

/** whiten (default true), anchorFrame, frameMethod: the reference's frame (anchor-frame.ts). */
export interface CoverageOptions extends FrameRequest {
  reference: string;
  candidate: string;
  out: string;
  k?: number;
  /** cosine (default): rows L2-normalised, Euclidean between them; euclidean: rows as given (vectors.ts). */
  metric?: DistanceMetric;
  /** exact, hnsw, or auto (default): see search-choice.ts. */
  search?: SearchRequest;
  /** Where exact search runs: auto (default: CUDA when installed and a GPU is visible, else CPU), cpu, cuda. */
  device?: ExactDeviceRequest;
  /** Rows per block of exact search (default 2,048 on CPU, 8,192 on CUDA; exact/tiles.ts). */
  exactTile?: number;
  /** HNSW only: index parameters. */
  index?: Partial<IndexParams>;
  /** HNSW only: recall@(k+1) each index must reach before the radii, and the largest ef tried for it (ef-tuning.ts). */
  indexRecall?: Partial<RecallTarget>;
  /** HNSW only: largest ball enumerated by index queries (default 4,096); larger ones are counted exactly (`exact_balls`), beyond 1% of a side counted to it and reported in `capped`. */
  maxProbe?: number;
  /**
   * HNSW: 1 = everything on the calling thread, 2 (default with 2+ cores) = each index built and queried on a worker
   * thread. Exact search: ONNX Runtime's intra-op threads (default: every core).
   */
  threads?: number;
  /** Progress of the long stages (index builds, radii, ball queries, second look; exact radii, exact balls), e.g. for stderr. */
  onProgress?: OnProgress;
  /** HNSW only: an index saved earlier from the same reference rows (a run's `reference.hnsw`), loaded instead of built. */
  referenceIndex?: string;
  /** HNSW only: queries for the index's recall@k check against exact search (default 200). */
  recallSample?: number;
  /** k-means regions of the reference for the tail table (default 32). */
  clusters?: number;
  seed?: number;
}

import { hnswFields, type CoverageReport, type HnswReportFields } from './report.js';

export { hnswFields, type CoverageReport, type HnswReportFields };

/** What coverage does with rows that share an id. */
export const COVERAGE_REPEATS_HANDLING =
  'Every row is kept and matched by position: reference.jsonl and candidate.jsonl have one row per document in input order ' +
  '(nearest_candidate is a candidate row number) and example texts are read by row; join these files by row order, not by id.';

/** What either search gives for the per-document files and the report. */
export interface SearchResult extends PrdcMetrics {
  reference: { radius: Float64Array; nearestCandidate: Float64Array; covered: Uint8Array };
  candidate: { balls: Int32Array; inManifold: Uint8Array };
  hnsw?: HnswReportFields;
  exact?: ExactSearchStats;
}

/** `k` (default 5) and `metric` (default cosine), checked: the options every coverage entry point shares. */
export function neighbourOptions(opts: { k?: number; metric?: DistanceMetric }): { k: number; metric: DistanceMetric } {
  const k = opts.k ?? 5;
  if (!(Number.isInteger(k) && k >= 1)) throw new UsageError(`\`k\` must be a positive integer (got ${k})`);
  return { k, metric: checkMetric(opts.metric) };
}

export async function coverageRun(opts: CoverageOptions): Promise<CoverageReport> {
  const { k, metric } = neighbourOptions(opts);
  const requested = checkSearchRequest(opts.search ?? 'auto');
  if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1))
    throw new UsageError(`\`threads\` must be a positive integer (got ${opts.threads})`);
  const hnswOptions = hnswOptionsGiven(opts);
  const ref = loadVectors(opts.reference, { metric });
  const cand = loadComparable(opts.candidate, ref, { metric });
  if (ref.ids.length <= k || cand.ids.length <= k)
    throw new UsageError(
      `both sets need more than k = ${k} documents (reference ${ref.ids.length}, candidate ${cand.ids.length})`,
    );
  const out = resolve(opts.out);
  mkdirSync(out, { recursive: true });
  // Both sets in the reference's frame (anchor-frame.ts); a reused index was built in the frame saved beside it.
  const indexFrame =
    opts.referenceIndex && existsSync(opts.referenceIndex)
      ? join(dirname(resolve(opts.referenceIndex)), ANCHOR_FRAME_FILE)
      : undefined;
  const { summary: frame } = await intoAnchorFrame(
    ref,
    [cand],
    metric,
    opts,
    join(out, ANCHOR_FRAME_FILE),
    indexFrame
      ? { file: indexFrame, exists: existsSync(indexFrame), why: `the reference index ${opts.referenceIndex}` }
      : undefined,
  );
  const work = exactWork(ref.ids.length, cand.ids.length, ref.dim);
  let devices: ExactDevice[] | undefined;
  const plan = () => (devices ??= exactDevicePlan(opts.device ?? 'auto'));
  let choice = chooseSearch(
    requested,
    hnswOptions,
    work,
    requested !== 'hnsw' && !hnswOptions.length && plan().includes('cuda'),
  );
  let runner: TileRunner | undefined;
  if (choice === 'device') {
    runner = await TileRunner.start(plan(), opts.threads ?? availableParallelism());
    choice = afterDevice(requested, work, runner.device);
    if (choice.used === 'hnsw') {
      await runner.release();
      runner = undefined;
    }
  }
  let res: SearchResult;
  let reg: Regions;
  if (runner) {
    try {
      res = await exactSearch(ref, cand, k, runner, opts);
      reg = await regions(ref, cand, res.reference.covered, opts.clusters ?? 32, opts.seed, runner);
    } finally {
      await runner.release();
    }
  } else {
    res = await hnswSearch(ref, cand, k, out, opts);
    reg = await regions(ref, cand, res.reference.covered, opts.clusters ?? 32, opts.seed);
  }

  return writeCoverage({
    ref,
    cand,
    k,
    metric,
    choice,
    res,
    reg,
    out,
    reference: opts.reference,
    candidate: opts.candidate,
    frame,
  });
}

/** What writeCoverage needs: both sets, the search's per-point results and metrics, and the regions. */
export interface CoverageParts {
  ref: VectorSet;
  cand: VectorSet;
  k: number;
  metric: DistanceMetric;
  choice: SearchChoice;
  res: SearchResult;
  reg: Regions;
  out: string;
  /** The paths the sets were loaded from (report.json names them). */
  reference: string;
  candidate: string;
  /** A reduce of candidate shards (coverage-shards.ts): their count. */
  shards?: number;
  /** The frame both sets were measured in (anchor-frame.ts). */
  frame: FrameSummary;
}

/** reference.jsonl, candidate.jsonl, report.json and report.html from a search's results (one run, or a reduce). */
export async function writeCoverage(p: CoverageParts): Promise<CoverageReport> {
  const { ref, cand, k, metric, choice, res, reg, out, frame } = p;
  const labels = await regionLabels(ref, reg.refAssign, reg.clusters.length);
  const regionLabel = (c: number) => labels.labels[c]!.label;
  const refRows = await JsonlWriter.create(join(out, 'reference.jsonl'));
  for (let i = 0; i < ref.ids.length; i++) {
    await refRows.write({
      id: ref.ids[i],
      covered: res.reference.covered[i] === 1,
      radius: res.reference.radius[i],
      nearest_candidate: res.reference.nearestCandidate[i],
      region: reg.refAssign[i],
      region_label: regionLabel(reg.refAssign[i]!),
    });
  }
  await refRows.close();
  const candRows = await JsonlWriter.create(join(out, 'candidate.jsonl'));
  for (let j = 0; j < cand.ids.length; j++) {
    await candRows.write({
      id: cand.ids[j],
      density: res.candidate.balls[j]! / k,
      in_reference_manifold: res.candidate.inManifold[j] === 1,
      region: reg.candAssign[j],
      region_label: regionLabel(reg.candAssign[j]!),
    });
  }
  await candRows.close();

  const examples = await withExampleTexts(reg.clusters, reg.exampleRows, ref);
  const repeats = repeatsReport(
    { reference: repeatedIds(ref.ids), candidate: repeatedIds(cand.ids) },
    COVERAGE_REPEATS_HANDLING,
  );
  const h = res.hnsw;
  const report: CoverageReport = {
    tool: 'tailguard',
    command: 'coverage',
    reference: setSummary(p.reference, ref),
    candidate: setSummary(p.candidate, cand),
    dim: ref.dim,
    k,
    metric,
    frame,
    search: choice,
    ...(res.exact ? { exact_search: res.exact } : {}),
    ...(p.shards !== undefined ? { sharded: { shards: p.shards } } : {}),
    ...(h ? { probe: h.probe, max_probe: h.max_probe, capped: h.capped, exact_balls: h.exact_balls } : {}),
    precision: res.precision,
    recall: res.recall,
    density: res.density,
    coverage: res.coverage,
    ...(h ? { index: h.index } : {}),
    clusters: examples.rows.map((r) => ({ ...r, ...labels.labels[r.cluster]! })),
    tails: reg.tails,
    ...(examples.missing ? { example_texts_missing: examples.missing } : {}),
    ...(labels.info ? { region_labels: labels.info } : {}),
    ...(labels.missing ? { region_labels_missing: labels.missing } : {}),
    ...(repeats ? { duplicate_ids: repeats } : {}),
  };
  await writeFileAtomic(join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(
    join(out, 'report.html'),
    await coverageHtml(report, mapPoints(ref, cand, reg.refAssign, reg.tails)),
  );
  return report;
}

/** `o` without its undefined fields (so that spreading it over defaults keeps them). */
function definedOnly<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Exact search's devices for a --device request (devicePlan, less WebGPU, which exact search does not run on). */
export function exactDevicePlan(request: ExactDeviceRequest): ExactDevice[] {
  if (!(['auto', 'cpu', 'cuda'] as string[]).includes(request))
    throw new UsageError(`\`device\` must be auto, cpu or cuda for coverage (got ${String(request)})`);
  return devicePlan(request).filter((d): d is ExactDevice => d === 'cpu' || d === 'cuda');
}

async function exactSearch(
  ref: VectorSet,
  cand: VectorSet,
  k: number,
  runner: TileRunner,
  opts: CoverageOptions,
): Promise<SearchResult> {
  const r = await exactPrdc(ref, cand, {
    k,
    seed: opts.seed,
    runner,
    threads: opts.threads ?? availableParallelism(),
    tile: opts.exactTile,
    onProgress: opts.onProgress,
  });
  return { ...r, exact: r.search };
}

async function hnswSearch(
  loadedRef: VectorSet,
  loadedCand: VectorSet,
  k: number,
  out: string,
  opts: CoverageOptions,
): Promise<SearchResult> {
  // In shared memory, so that the index workers read the rows where they are.
  const ref = sharedVectors(loadedRef);
  const cand = sharedVectors(loadedCand);
  const params = { ...DEFAULT_INDEX_PARAMS, ...definedOnly(opts.index) };
  const recallQueries = recallRows(cand.ids.length, opts.recallSample ?? 200);
  const indexFiles = opts.referenceIndex ? { reference: resolve(opts.referenceIndex) } : undefined;
  const pair = await buildIndexPair(ref, cand, {
    params,
    threads: opts.threads,
    onProgress: opts.onProgress,
    indexFiles,
  });
  let res: PrdcResult;
  let recallAtK: number;
  try {
    res = await prdc(pair, {
      k,
      seed: opts.seed,
      maxProbe: opts.maxProbe,
      indexRecall: definedOnly(opts.indexRecall),
      onProgress: opts.onProgress,
    });
    await pair.reference.save(join(out, 'reference.hnsw'));
    recallAtK = await recallAgainstExact(ref, cand, recallQueries, await pair.reference.knn(recallQueries, k), k);
  } finally {
    await pair.close();
  }
  return {
    ...res,
    hnsw: {
      probe: res.probe,
      max_probe: res.maxProbe,
      capped: {
        reference_balls: res.capped.referenceBalls,
        candidate_balls: res.capped.candidateBalls,
        unchecked_candidates: res.capped.uncheckedCandidates,
        unchecked_reference: res.capped.uncheckedReference,
      },
      exact_balls: res.exactBalls,
      index: {
        ...params,
        ef_tuning: res.efSearch,
        recall_at_k: recallAtK,
        recall_sample: recallQueries.length,
        unreachable: res.unreachable,
        widened_search: res.widened,
        radius_outliers: res.radiusOutliers,
      },
    },
  };
}

export interface Regions {
  clusters: (ClusterRow & { coverage: number })[];
  /** Per region, the reference rows of its example documents. */
  exampleRows: number[][];
  tails: number[];
  refAssign: Int32Array;
  candAssign: Int32Array;
}

/**
 * k-means regions of the reference, and which are tails. With exact search's runner, the nearest centroids come from
 * its tiles (exact/centroids.ts: the same assignments as the float64 loop, so the same regions, faster).
 */
export async function regions(
  ref: VectorSet,
  cand: VectorSet,
  covered: Uint8Array,
  k: number,
  seed?: number,
  runner?: TileRunner,
): Promise<Regions> {
  const nearest = runner ? (rows: Float32Array, c: Clustering) => nearestCentroids(runner, rows, c) : undefined;
  const clustering = nearest ? await kmeansWith(ref, k, { seed }, nearest) : kmeans(ref, k, { seed });
  const refAssign = nearest ? await nearest(ref.data, clustering) : assignAll(clustering, ref);
  const candAssign = nearest ? await nearest(cand.data, clustering) : assignAll(clustering, cand);
  const { table, exampleRows } = clusterTableWithRows(clustering, ref, refAssign, candAssign);
  const coveredCounts = perCluster(refAssign, clustering.k, covered);
  const clusters = table.map((r) => ({
    ...r,
    coverage: r.reference_documents ? coveredCounts[r.cluster]! / r.reference_documents : 0,
  }));
  return {
    clusters,
    exampleRows,
    tails: clusters.filter((r) => r.status === 'absent' || r.status === 'thin').map((r) => r.cluster),
    refAssign,
    candAssign,
  };
}

/** Up to `n` evenly spaced rows of each set, projected on the reference sample's first two principal components. */
function mapPoints(ref: VectorSet, cand: VectorSet, refAssign: Int32Array, tails: number[], n = 1500): MapPoint[] {
  const pick = (len: number) =>
    Array.from({ length: Math.min(n, len) }, (_, t) => Math.floor((t * len) / Math.min(n, len)));
  const refRows = pick(ref.ids.length);
  const proj = pca2(ref.data, ref.dim, refRows);
  const tail = new Set(tails);
  return [
    ...refRows.map((i) => {
      const [x, y] = proj.project(i);
      return { x, y, set: 'reference' as const, tail: tail.has(refAssign[i]!), id: ref.ids[i]! };
    }),
    ...pick(cand.ids.length).map((j) => {
      const [x, y] = proj.project(j, cand.data);
      return { x, y, set: 'candidate' as const, tail: false, id: cand.ids[j]! };
    }),
  ];
}
