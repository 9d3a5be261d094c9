/**
 * Precision, recall, density and coverage (prdc.ts gives the definitions) by exact search: every pair's distance from
 * blocked matrix products in ONNX Runtime (tiles.ts; CPU, or CUDA on a GPU), of which only per-block reductions are
 * kept — K-smallest lists, counts, flags — so memory is O((N + M)·K + tile²), never N × M.
 *
 *   radii    each side against itself, the upper triangle of tiles (an off-diagonal tile serves the rows of both its
 *            blocks; after the diagonal ones, a tile returns only pairs below a list's current K-th value): per
 *            point, the K = 2(k+1) smallest float32 distances, then those K in float64. The (k+1)-th of
 *            them (the point itself first, at 0) is the radius when the K-th float32 value, less the rounding bound,
 *            is no smaller: no pair left out can come before it. Points where it is (many near-equal distances at
 *            the list's end) are searched again by exact-search.ts.
 *   balls    reference against candidate, every tile: against each reference radius (density, precision) and each
 *            candidate radius (recall) a pair is surely in, surely out, or within the rounding bound of the radius,
 *            and those few are decided in float64. Coverage: each reference point's nearest candidate, settled the
 *            same way as the radii (4 smallest per row, float64, the bound; else exact-search.ts).
 *
 * Contract: every radius, count, flag and nearest distance equals that of a float64 loop over every pair
 * (squaredDistance in vectors.ts, then Math.sqrt, `≤` the radius), ties included; the float32 products only decide
 * which pairs need no float64 look (tiles.ts states the rounding bound and its margin).
 */
import { availableParallelism } from 'node:os';
import { UsageError } from '../../errors.js';
import type { OnProgress } from '../../progress.js';
import { exactNeighbours } from './exact-search.js';
import { prdcMetrics, type PrdcMetrics } from '../prdc-metrics.js';
import { squaredDistance, subset, type VectorSet } from '../vectors.js';
import {
  ApproxLists,
  f32Above,
  f32Below,
  meanRow,
  pipelined,
  prepare,
  workProgress,
  type PreparedSet,
} from './blocks.js';
import { DEFAULT_TILE, TileRunner, type ExactDevice, type PairsTile, type SmallestTile } from './tiles.js';

export interface TileRadiiResult {
  /** Per point: the distance to its k-th nearest other point of its set (the farthest there is with k or fewer). */
  radii: Float64Array;
  /** Their squares, as summed in float64 (the tiles' thresholds). */
  squared: Float64Array;
  /** Points the tiles' lists could not settle, searched again by exact-search.ts. */
  researched: number;
}

export interface TileBallCounts {
  /** Per candidate: reference balls holding it. */
  balls: Int32Array;
  /** Per reference point: 1 when some candidate ball holds it. */
  inCandidateManifold: Uint8Array;
  /** Per reference point: distance to its nearest candidate. */
  nearestCandidate: Float64Array;
  /** Pairs within the rounding bound of a radius, decided in float64. */
  rechecked: number;
  /** Reference points whose nearest candidate the tiles could not settle, searched again by exact-search.ts. */
  researched: number;
}

export interface ExactSearchStats {
  device: ExactDevice;
  /** Why earlier devices of the plan did not start (a CUDA provider that failed, say). */
  fallback_reasons: string[];
  /** ONNX Runtime intra-op threads (CPU). */
  threads: number;
  tile: number;
  /** Pairs decided in float64 because their float32 distance lay within the rounding bound of a radius. */
  rechecked_pairs: number;
  /** Points whose radius or nearest candidate the tiles could not settle, searched again exactly (exact-search.ts). */
  researched: { reference_radii: number; candidate_radii: number; nearest_candidates: number };
}

export interface ExactPrdcOptions {
  k: number;
  /** Bootstrap seed (default 1). */
  seed?: number;
  /** Devices to try in order (default CPU); or a runner started already. */
  devices?: ExactDevice[];
  runner?: TileRunner;
  /** ONNX Runtime intra-op threads (default: every core). */
  threads?: number;
  /** Rows per block (default DEFAULT_TILE of the device). */
  tile?: number;
  /** Stages 'exact radii' (both sides' points) and 'exact balls' (reference points). */
  onProgress?: OnProgress;
}

export interface ExactPrdcResult extends PrdcMetrics {
  k: number;
  search: ExactSearchStats;
  reference: {
    radius: Float64Array;
    nearestCandidate: Float64Array;
    covered: Uint8Array;
    inCandidateManifold: Uint8Array;
  };
  candidate: { radius: Float64Array; balls: Int32Array; inManifold: Uint8Array };
}

/** Candidates kept per point for the radii: k + 1 (the point itself and its k nearest) and as many more for margin. */
export const radiusListSize = (k: number): number => 2 * (k + 1);
/** Candidates kept per reference point for its nearest candidate. */
export const NEAREST_LIST = 4;

export async function exactPrdc(ref: VectorSet, cand: VectorSet, options: ExactPrdcOptions): Promise<ExactPrdcResult> {
  const { k, seed = 1, onProgress } = options;
  if (!(Number.isInteger(k) && k >= 1)) throw new UsageError(`k must be a positive integer (got ${k})`);
  if (ref.dim !== cand.dim) throw new UsageError(`reference vectors are ${ref.dim}-d, candidate vectors ${cand.dim}-d`);
  if (!ref.ids.length || !cand.ids.length)
    throw new UsageError(
      `exact search needs points on both sides (reference ${ref.ids.length}, candidate ${cand.ids.length})`,
    );
  const threads = options.threads ?? availableParallelism();
  if (!(Number.isInteger(threads) && threads >= 1))
    throw new UsageError(`threads must be a positive integer (got ${threads})`);
  const runner = options.runner ?? (await TileRunner.start(options.devices ?? ['cpu'], threads));
  try {
    const tile = options.tile ?? DEFAULT_TILE[runner.device];
    if (!(Number.isInteger(tile) && tile >= 1)) throw new UsageError(`tile must be a positive integer (got ${tile})`);
    const centre = meanRow(ref);
    const R = prepare(ref, tile, centre);
    const C = prepare(cand, tile, centre);
    const selfWork = (s: PreparedSet) => (s.n * (s.n + 1)) / 2;
    const radiiTick = workProgress(onProgress, 'exact radii', R.n + C.n, selfWork(R) + selfWork(C));
    const refRadii = await tileRadii(R, k, runner, radiiTick);
    const candRadii = await tileRadii(C, k, runner, radiiTick);
    const found = await tileBalls(
      R,
      C,
      refRadii,
      candRadii,
      runner,
      workProgress(onProgress, 'exact balls', R.n, R.n * C.n),
    );
    const balls = found.balls;
    const inManifold = Uint8Array.from(balls, (c) => (c > 0 ? 1 : 0));
    const covered = Uint8Array.from(found.nearestCandidate, (d, i) => (d <= refRadii.radii[i]! ? 1 : 0));
    return {
      k,
      ...prdcMetrics({ balls, inManifold, inCandidateManifold: found.inCandidateManifold, covered }, k, seed),
      search: {
        device: runner.device,
        fallback_reasons: runner.fallbackReasons,
        threads,
        tile,
        rechecked_pairs: found.rechecked,
        researched: {
          reference_radii: refRadii.researched,
          candidate_radii: candRadii.researched,
          nearest_candidates: found.researched,
        },
      },
      reference: {
        radius: refRadii.radii,
        nearestCandidate: found.nearestCandidate,
        covered,
        inCandidateManifold: found.inCandidateManifold,
      },
      candidate: { radius: candRadii.radii, balls, inManifold },
    };
  } finally {
    if (!options.runner) await runner.release();
  }
}

/** Each point's k-NN radius within its own set (see the header). `tick(pairs)`: progress. */
export async function tileRadii(
  set: PreparedSet,
  k: number,
  runner: TileRunner,
  tick: (pairs: number) => void = () => undefined,
): Promise<TileRadiiResult> {
  const { n, dim } = set;
  const K = Math.min(n, radiusListSize(k));
  const lists = new ApproxLists(n, K);
  // Each block against itself first (the K smallest per row start every list), then the upper triangle's other
  // tiles, which return only the pairs below a list's current K-th value (a tile behind: the next one is computed
  // while this one is merged).
  const jobs: [number, number][] = [];
  for (let a = 0; a < set.blocks; a++) jobs.push([a, a]);
  for (let a = 0; a < set.blocks; a++) for (let b = a + 1; b < set.blocks; b++) jobs.push([a, b]);
  await pipelined(
    jobs.length,
    async (t): Promise<SmallestTile | PairsTile> => {
      const [a, b] = jobs[t]!;
      if (a === b) return runner.smallest(set.block(a), set.block(a), dim, K);
      const x = set.block(a);
      const y = set.block(b);
      return runner.nearer(x, y, dim, lists.lasts(x.start, x.count), lists.lasts(y.start, y.count));
    },
    (tile, t) => {
      const [a, b] = jobs[t]!;
      const x = set.span(a);
      const y = set.span(b);
      if ('rowK' in tile) {
        for (let r = 0; r < x.count; r++)
          lists.offerSorted(x.start + r, tile.rowValues, tile.rowIds, r * tile.rowK, tile.rowK, y.start);
      } else {
        for (let p = 0; p < tile.values.length; p++) {
          const i = x.start + tile.rows[p]!;
          const j = y.start + tile.cols[p]!;
          lists.offer(i, tile.values[p]!, j);
          lists.offer(j, tile.values[p]!, i);
        }
      }
      tick(a === b ? (x.count * (x.count + 1)) / 2 : x.count * y.count);
    },
    (t) => t === set.blocks,
  ); // the first nearer tile needs every list started
  const E = runner.errorScale(dim);
  const radii = new Float64Array(n);
  const squared = new Float64Array(n);
  const unsettled: number[] = [];
  const d2 = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < K; t++)
      d2[t] = squaredDistance(set.vectors.data, i, set.vectors.data, lists.ids[i * K + t]!, dim);
    d2.sort();
    const e = d2[Math.min(k, K - 1)]!;
    // Every pair not in the list is at least the list's last float32 value less the rounding bound.
    if (K < n && !(e === 0 || e * (1 + E) <= lists.last(i) - E * (set.sq[i]! + set.maxSq))) {
      unsettled.push(i);
      continue;
    }
    squared[i] = e;
    radii[i] = Math.sqrt(e);
  }
  if (unsettled.length) {
    const again = await exactNeighbours(set.vectors, subset(set.vectors, unsettled).data, k + 1);
    unsettled.forEach((i, t) => {
      const d = again[t]!.distances;
      radii[i] = d[Math.min(k, d.length - 1)] ?? 0;
      squared[i] = radii[i]! ** 2;
    });
  }
  return { radii, squared, researched: unsettled.length };
}

/**
 * Reference balls over the candidates (per candidate: how many hold it), candidate balls over the reference (per
 * reference point: whether any holds it), and each reference point's nearest candidate (see the header).
 */
export async function tileBalls(
  R: PreparedSet,
  C: PreparedSet,
  refRadii: TileRadiiResult,
  candRadii: TileRadiiResult,
  runner: TileRunner,
  tick: (pairs: number) => void = () => undefined,
): Promise<TileBallCounts> {
  const { dim } = R;
  const E = runner.errorScale(dim);
  // Thresholds widened by the rounding bound (and by E·r², so that a float64 sum on the far side of one is far from
  // the radius too), rounded outwards to float32: D ≤ lo is surely inside, D > hi surely outside.
  const widened = (S: PreparedSet, other: PreparedSet, r2: Float64Array) => {
    const lo = new Float32Array(S.n);
    const hi = new Float32Array(S.n);
    for (let i = 0; i < S.n; i++) {
      const m = E * (S.sq[i]! + other.maxSq + r2[i]!);
      lo[i] = f32Below(r2[i]! - m);
      hi[i] = f32Above(r2[i]! + m);
    }
    return { lo, hi };
  };
  const refT = widened(R, C, refRadii.squared);
  const candT = widened(C, R, candRadii.squared);
  const balls = new Int32Array(C.n);
  const inCand = new Uint8Array(R.n);
  const K = Math.min(C.n, NEAREST_LIST);
  const nearest = new ApproxLists(R.n, K);
  let rechecked = 0;
  // Every row block against the first column block first (the K smallest per row start the nearest lists), then the rest.
  const jobs: [number, number][] = [];
  for (let a = 0; a < R.blocks; a++) jobs.push([a, 0]);
  for (let a = 0; a < R.blocks; a++) for (let b = 1; b < C.blocks; b++) jobs.push([a, b]);
  const dist = (i: number, j: number) => Math.sqrt(squaredDistance(R.vectors.data, i, C.vectors.data, j, dim));
  await pipelined(
    jobs.length,
    (t) => {
      const [a, b] = jobs[t]!;
      const x = R.block(a);
      const y = C.block(b);
      const rows = (v: Float32Array) => v.subarray(x.start, x.start + x.count);
      const cols = (v: Float32Array) => v.subarray(y.start, y.start + y.count);
      // A row block's first tile starts its nearest lists; later ones return the pairs below their current K-th.
      return runner.balls(
        x,
        y,
        dim,
        { rowLo: rows(refT.lo), rowHi: rows(refT.hi), colLo: cols(candT.lo), colHi: cols(candT.hi) },
        b === 0 ? K : nearest.lasts(x.start, x.count),
      );
    },
    (tile, t) => {
      const [a, b] = jobs[t]!;
      const x = R.span(a);
      const y = C.span(b);
      for (let c = 0; c < y.count; c++) balls[y.start + c]! += tile.sureInRowBalls[c]!;
      for (let r = 0; r < x.count; r++) if (tile.sureInColumnBall[r]! > 0) inCand[x.start + r] = 1;
      const near = tile.nearRowBall;
      const u = near.length / 2;
      for (let p = 0; p < u; p++) {
        const i = x.start + near[p]!;
        const j = y.start + near[u + p]!;
        rechecked++;
        if (dist(i, j) <= refRadii.radii[i]!) balls[j]!++;
      }
      const nearC = tile.nearColumnBall;
      const v = nearC.length / 2;
      for (let p = 0; p < v; p++) {
        const i = x.start + nearC[p]!;
        if (inCand[i]) continue;
        const j = y.start + nearC[v + p]!;
        rechecked++;
        if (dist(i, j) <= candRadii.radii[j]!) inCand[i] = 1;
      }
      const n = tile.nearest;
      if ('rowK' in n)
        for (let r = 0; r < x.count; r++)
          nearest.offerSorted(x.start + r, n.rowValues, n.rowIds, r * n.rowK, n.rowK, y.start);
      else
        for (let p = 0; p < n.values.length; p++)
          nearest.offer(x.start + n.rows[p]!, n.values[p]!, y.start + n.cols[p]!);
      tick(x.count * y.count);
    },
    (t) => t === R.blocks,
  ); // the first thresholded tile needs every list started
  const nearestCandidate = new Float64Array(R.n);
  const unsettled: number[] = [];
  for (let i = 0; i < R.n; i++) {
    let m = Infinity;
    for (let t = 0; t < K; t++)
      m = Math.min(m, squaredDistance(R.vectors.data, i, C.vectors.data, nearest.ids[i * K + t]!, dim));
    if (K < C.n && !(m === 0 || m * (1 + E) <= nearest.last(i) - E * (R.sq[i]! + C.maxSq))) {
      unsettled.push(i);
      continue;
    }
    nearestCandidate[i] = Math.sqrt(m);
  }
  if (unsettled.length) {
    const again = await exactNeighbours(C.vectors, subset(R.vectors, unsettled).data, 1);
    unsettled.forEach((i, t) => {
      nearestCandidate[i] = again[t]!.distances[0]!;
    });
  }
  return { balls, inCandidateManifold: inCand, nearestCandidate, rechecked, researched: unsettled.length };
}
