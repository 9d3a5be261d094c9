/**
 * Precision, recall, density and coverage of a candidate set against a reference set (Naeem et al. 2020,
 * "Reliable Fidelity and Diversity Metrics for Generative Models"), Euclidean between the rows as loaded (L2-normalised
 * for the metric cosine, as given for euclidean; vectors.ts), with k-NN radii:
 *   r(x_i)  = distance from reference x_i to its k-th nearest other reference point; r'(y_j) likewise among candidates
 *   precision = (1/M) Σ_j 1[∃ i: |y_j − x_i| ≤ r(x_i)]          candidates inside the reference manifold
 *   recall    = (1/N) Σ_i 1[∃ j: |x_i − y_j| ≤ r'(y_j)]         reference points inside the candidate manifold
 *   density   = (1/(kM)) Σ_j Σ_i 1[|y_j − x_i| ≤ r(x_i)]        how many reference balls hold each candidate (≈1 when alike)
 *   coverage  = (1/N) Σ_i 1[min_j |x_i − y_j| ≤ r(x_i)]         reference points with a candidate inside their ball
 *
 * Neighbours come from HNSW indexes (ann-index.ts; each side's on its own worker, workers/index-pair.ts), so no N×M
 * matrix is formed: each ball is a range query of its own radius, answered by k-NN queries of `probe` points doubled
 * until the farthest returned lies outside it. Counts are exact up to the index's own approximation, and the places
 * where that approximation would bite are handled exactly: ef tuned to a recall target first (ef-tuning.ts); radii
 * from self-queries with relinking, wide searches and exact search for unreachable points and outliers (radii.ts);
 * balls over `maxProbe` counted exactly (`exactBalls`), beyond a budget capped (`capped`) and re-checked from the
 * points' side (`secondLook`, balls.ts). docs/coverage.md ("How exactness is kept with HNSW") says it in full.
 * The reference side's tuned ef and radii depend on the reference alone: `referenceSide` reuses them from an earlier
 * run against another candidate set (compare.ts: one anchor, many generations).
 * Confidence intervals: percentile bootstrap over the per-point indicators (the radii held fixed),
 * 500 resamples, seeded.
 */
import { UsageError } from '../../errors.js';
import type { OnProgress } from '../../progress.js';
import { DEFAULT_RECALL_TARGET, type EfTuning, type RecallTarget } from './ef-tuning.js';
import type { BallCounts, BallLimits } from './balls.js';
import type { IndexHost } from '../workers/index-host.js';
import { onBothSides, type IndexPair } from '../workers/index-pair.js';
import { prdcMetrics, type Metric } from '../prdc-metrics.js';
import { shrank, type Radii } from './radii.js';

export type { Metric } from '../prdc-metrics.js';

export interface PrdcResult {
  k: number;
  probe: number;
  maxProbe: number;
  precision: Metric;
  recall: Metric;
  density: Metric;
  coverage: Metric;
  /**
   * Balls holding more than `maxProbe` points of the other set (counted only to `maxProbe`), and points whose check
   * against those balls hit the cap too (counted outside: precision and recall may be low by at most that share).
   */
  capped: { referenceBalls: number; candidateBalls: number; uncheckedCandidates: number; uncheckedReference: number };
  /** Points each index could not reach from their own position even with a widened search (radii by exact search; knnRadii). */
  unreachable: { reference: number; candidate: number };
  /** Each index's ef after tuning to the recall target, and the recall measured (ef-tuning.ts). */
  efSearch: { reference: EfTuning; candidate: EfTuning };
  /** Points reached only by a widened search (radii.ts); ball queries seldom return them, the second look finds them. */
  widened: { reference: number; candidate: number };
  /**
   * Balls that held more than `maxProbe` points and were then counted exactly, with their radii by exact search, and
   * how many of those radii were smaller than the index's (the rest of the capped balls are in `capped`).
   */
  exactBalls: { reference: ExactBalls; candidate: ExactBalls };
  /** Radii that stood out from their neighbours' and were recomputed by exact search, and how many that made smaller (radii.ts). */
  radiusOutliers: { reference: Radii['outliers']; candidate: Radii['outliers'] };
  /** The reference side's ef and radii, to pass as `referenceSide` to a later run against another candidate set. */
  referenceSide: SideRadii;
  /** Per reference point: its radius, the distance to its nearest candidate, and whether that is inside. */
  reference: { radius: Float64Array; nearestCandidate: Float64Array; covered: Uint8Array };
  /** Per candidate: reference balls holding it (density contribution ×k) and whether any does. */
  candidate: { balls: Int32Array; inManifold: Uint8Array };
}

/** What one side's balls take: its index's ef after tuning and its k-NN radii (these depend on that side alone). */
export interface SideRadii {
  k: number;
  efSearch: EfTuning;
  radii: Radii;
}

export interface ExactBalls {
  counted: number;
  /** Of those, radii that exact search found smaller than the index's. */
  shrunk: number;
}

/** Capped balls counted exactly per side at most: this share of the side, and at least `EXACT_BALLS_MIN`. */
export const EXACT_BALLS_SHARE = 0.01;
export const EXACT_BALLS_MIN = 256;

export interface PrdcOptions {
  /** Neighbours for the radii. */
  k: number;
  /** First k-NN query size of a ball query (default 4k, at least 32). */
  probe?: number;
  /** Largest ball enumerated in full (default 4,096). */
  maxProbe?: number;
  /**
   * Of the balls that hold more than `maxProbe` points, how many per side get their radius by exact search and their
   * members counted exactly (default: 1% of the side, at least 256); the rest stay capped.
   */
  maxExactBalls?: number;
  /** Recall@(k+1) each index's self-queries must reach before the radii (default 0.98, ef up to 3,200, 200 points). */
  indexRecall?: Partial<RecallTarget>;
  /**
   * The reference side's ef and radii from an earlier run over the same reference rows (`PrdcResult.referenceSide`),
   * used instead of tuning and computing them again: one anchor against many candidate sets (compare.ts). The
   * reference index is set to that ef.
   */
  referenceSide?: SideRadii;
  /** Bootstrap seed (default 1). */
  seed?: number;
  /** Progress of the passes: 'ef tuning', 'radii', 'ball queries', 'second look' (both sides together). */
  onProgress?: OnProgress;
}

export async function prdc(pair: IndexPair, options: PrdcOptions): Promise<PrdcResult> {
  const { k, seed = 1, onProgress } = options;
  const limits = { probe: options.probe ?? Math.max(4 * k, 32), maxProbe: options.maxProbe ?? 4096 };
  const { reference: R, candidate: C } = pair;
  const N = R.size;
  const M = C.size;
  const goal = { ...DEFAULT_RECALL_TARGET, ...options.indexRecall };
  const sample = (n: number) => Math.min(n, goal.sample);
  const reused = options.referenceSide;
  if (reused && (reused.k !== k || reused.radii.radii.length !== N)) {
    throw new UsageError(
      `referenceSide: radii of ${reused.radii.radii.length} points with k = ${reused.k}, but the reference has ${N} points and k is ${k}`,
    );
  }
  if (reused) await R.setEf(reused.efSearch.ef);
  const [refEf, candEf] = await onBothSides(
    onProgress,
    'ef tuning',
    [reused ? 0 : sample(N), sample(M)],
    async (p) => reused?.efSearch ?? R.tuneEf(k, goal, p),
    (p) => C.tuneEf(k, goal, p),
  );
  const [refRadii, candRadii] = await onBothSides(
    onProgress,
    'radii',
    [reused ? 0 : N, M],
    async (p) => reused?.radii ?? R.radii(k, p),
    (p) => C.radii(k, p),
  );
  // Reference balls over the candidates give density, precision and coverage; candidate balls over the reference,
  // recall. Each is asked of the members' index, then looked at again from the centres' side.
  const [refBalls, candBalls] = await onBothSides(
    onProgress,
    'ball queries',
    [N, M],
    (p) => C.ballCounts(refRadii.radii, limits, p),
    (p) => R.ballCounts(candRadii.radii, limits, p),
  );
  const exactFor = (n: number) => options.maxExactBalls ?? Math.max(EXACT_BALLS_MIN, Math.ceil(EXACT_BALLS_SHARE * n));
  const [refExact, candExact] = await Promise.all([
    countCappedExactly(R, C, refRadii.radii, refBalls, exactFor(N), k, limits),
    countCappedExactly(C, R, candRadii.radii, candBalls, exactFor(M), k, limits),
  ]);
  const r = refExact.radii;
  const [byRef, byCand] = await onBothSides(
    onProgress,
    'second look',
    [M, N],
    (p) => R.secondLook(r, refExact.found, limits, p),
    (p) => C.secondLook(candExact.radii, candExact.found, limits, p),
  );
  const balls = byRef.counts;
  const inManifold = Uint8Array.from(balls, (c) => (c > 0 ? 1 : 0));
  const covered = Uint8Array.from(byRef.nearest, (d, i) => (d <= r[i]! ? 1 : 0));
  const inCandidateManifold = Uint8Array.from(byCand.counts, (c) => (c > 0 ? 1 : 0));

  return {
    k,
    ...limits,
    ...prdcMetrics({ balls, inManifold, inCandidateManifold, covered }, k, seed),
    capped: {
      referenceBalls: byRef.cappedRows.length,
      candidateBalls: byCand.cappedRows.length,
      uncheckedCandidates: byRef.unchecked,
      uncheckedReference: byCand.unchecked,
    },
    unreachable: { reference: refRadii.unreachable.length, candidate: candRadii.unreachable.length },
    efSearch: { reference: refEf, candidate: candEf },
    widened: { reference: refRadii.widened, candidate: candRadii.widened },
    exactBalls: { reference: refExact.tally, candidate: candExact.tally },
    radiusOutliers: { reference: refRadii.outliers, candidate: candRadii.outliers },
    referenceSide: { k, efSearch: refEf, radii: refRadii },
    reference: { radius: r, nearestCandidate: byRef.nearest, covered },
    candidate: { balls, inManifold },
  };
}

/**
 * A ball holding thousands where about k belong has a radius too large (an index search that missed the nearest
 * points) or lies where the other set is far denser: the first `most` of one side's capped balls get their radii by
 * exact search (on the centres' side) and their members counted exactly (on the members' side). Returns the side's
 * radii with those replaced, the counts with those balls recounted, and how many there were and how many shrank.
 */
async function countCappedExactly(
  centres: IndexHost,
  members: IndexHost,
  radii: Float64Array,
  found: BallCounts,
  most: number,
  k: number,
  limits: BallLimits,
): Promise<{ radii: Float64Array; found: BallCounts; tally: ExactBalls }> {
  const rows = found.cappedRows.slice(0, most);
  if (!rows.length) return { radii, found, tally: { counted: 0, shrunk: 0 } };
  const exact = await centres.exactRadii(rows, k);
  const recounted = await members.recountBalls(radii, rows, exact, found, limits);
  const updated = radii.slice();
  rows.forEach((c, t) => {
    updated[c] = exact[t]!;
  });
  const shrunk = rows.filter((c, t) => shrank(radii[c]!, exact[t]!)).length;
  return { radii: updated, found: recounted, tally: { counted: rows.length, shrunk } };
}
