/**
 * Precision, recall, density and coverage of a candidate set against a reference set (Naeem et al. 2020,
 * "Reliable Fidelity and Diversity Metrics for Generative Models"), Euclidean on L2-normalised rows, with k-NN radii:
 *   r(x_i)  = distance from reference x_i to its k-th nearest other reference point; r'(y_j) likewise among candidates
 *   precision = (1/M) Σ_j 1[∃ i: |y_j − x_i| ≤ r(x_i)]          candidates inside the reference manifold
 *   recall    = (1/N) Σ_i 1[∃ j: |x_i − y_j| ≤ r'(y_j)]         reference points inside the candidate manifold
 *   density   = (1/(kM)) Σ_j Σ_i 1[|y_j − x_i| ≤ r(x_i)]        how many reference balls hold each candidate (≈1 when alike)
 *   coverage  = (1/N) Σ_i 1[min_j |x_i − y_j| ≤ r(x_i)]         reference points with a candidate inside their ball
 *
 * Neighbours come from HNSW indexes (ann-index.ts), so no N×M matrix is ever formed. Every count is gathered from the
 * balls' side: each reference ball asks the candidate index for the candidates inside it (density, precision,
 * coverage), each candidate ball asks the reference index likewise (recall). A ball is a range query of its own
 * radius — about k points when the sets are alike — answered by k-NN queries of `probe` (default 4k, at least 32)
 * points, doubled until the farthest one returned lies outside the ball. So the counts are exact up to the index's
 * own approximation, at a cost that follows each ball's own size rather than the largest ball's. A ball holding more
 * than `maxProbe` (default 4,096) points is counted to that many and reported in `capped`; points found in no ball
 * are then checked from their own side against the capped balls (see `memberships`), so precision and recall stay
 * exact unless that check is capped as well (counted in `capped`), coverage (nearest point only) is unaffected, and
 * density becomes a lower bound (a candidate far denser than the reference there). The few points an HNSW graph
 * cannot reach at all are found by knnRadii (radii.ts) and their memberships counted by exact search.
 * Confidence intervals: percentile bootstrap over the per-point indicators (the radii held fixed),
 * 500 resamples, seeded.
 */
import { bootstrapCi, type Interval } from '../detect/metrics.js';
import { stageReporter, type OnProgress } from '../progress.js';
import { AnnIndex, type Neighbours } from './ann-index.js';
import { knnRadii } from './radii.js';
import { row, squaredDistance, subset, type VectorSet } from './vectors.js';

export interface Metric {
  value: number;
  ci: Interval;
}

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
  /** Points each index could not reach from their own position (handled by exact search; see knnRadii). */
  unreachable: { reference: number; candidate: number };
  /** Per reference point: its radius, the distance to its nearest candidate, and whether that is inside. */
  reference: { radius: Float64Array; nearestCandidate: Float64Array; covered: Uint8Array };
  /** Per candidate: reference balls holding it (density contribution ×k) and whether any does. */
  candidate: { balls: Int32Array; inManifold: Uint8Array };
}

const mean = (v: ArrayLike<number>, idx?: Int32Array): number => {
  let s = 0;
  const n = idx ? idx.length : v.length;
  for (let t = 0; t < n; t++) s += v[idx ? idx[t]! : t]!;
  return n ? s / n : NaN;
};

interface Ball {
  /** Nearest indexed points, ascending; those with distance ≤ radius are the ball's members. */
  nearest: Neighbours;
  members: number;
  capped: boolean;
}

/** The indexed points within `radius` of `query`: nearest neighbours, doubled until one falls outside (or `maxProbe`). */
function ballQuery(index: AnnIndex, query: number[], radius: number, probe: number, maxProbe: number): Ball {
  let p = Math.min(probe, index.size, maxProbe);
  for (;;) {
    const nearest = index.knn(query, p);
    const d = nearest.distances;
    const outside = d.length > 0 && d[d.length - 1]! > radius;
    if (outside || p >= index.size || p >= maxProbe) {
      let members = 0;
      while (members < d.length && d[members]! <= radius) members++;
      return { nearest, members, capped: !outside && p < index.size };
    }
    p = Math.min(2 * p, index.size, maxProbe);
  }
}

interface Memberships {
  /** Per point of the member set: how many balls hold it. */
  counts: Int32Array;
  /** Per ball: distance from its centre to the nearest member-set point. */
  nearest: Float64Array;
  /** Balls that held more than `maxProbe` points. */
  capped: number;
  /** Member points in no ball whose own check against the capped balls also hit the cap. */
  unchecked: number;
}

interface Pass {
  probe: number;
  maxProbe: number;
  onProgress?: OnProgress;
}

/**
 * For balls centred on `centres` (radii `radii`), which points of `members` each holds, gathered from the balls' side.
 * Member points the index cannot reach (`unreachable`, from knnRadii) are never returned by a query, so theirs are
 * counted by exact search. Then a second look (`secondLook`) at every point found in no ball.
 */
function memberships(
  centres: VectorSet, centreIndex: AnnIndex, radii: Float64Array, members: VectorSet, memberIndex: AnnIndex, unreachable: number[], pass: Pass, stage: string,
): Memberships {
  const counts = new Int32Array(members.ids.length);
  const nearest = new Float64Array(centres.ids.length);
  const cappedRows: number[] = [];
  const tick = stageReporter(pass.onProgress, stage, centres.ids.length);
  for (let c = 0; c < centres.ids.length; c++) {
    tick(c);
    const ball = ballQuery(memberIndex, row(centres, c), radii[c]!, pass.probe, pass.maxProbe);
    for (let t = 0; t < ball.members; t++) counts[ball.nearest.ids[t]!]!++;
    nearest[c] = ball.nearest.distances[0] ?? Infinity;
    if (ball.capped) cappedRows.push(c);
  }
  for (const m of unreachable) {
    counts[m] = 0;
    for (let c = 0; c < centres.ids.length; c++) {
      const d = Math.sqrt(squaredDistance(centres.data, c, members.data, m, centres.dim));
      if (d <= radii[c]!) counts[m]!++;
      if (d < nearest[c]!) nearest[c] = d;
    }
  }
  const unchecked = secondLook(centres, centreIndex, radii, members, memberIndex, cappedRows, counts, nearest, pass);
  return { counts, nearest, capped: cappedRows.length, unchecked };
}

/**
 * A point found in no ball is what precision and recall count, so each one gets a second look from its own side:
 * its `probe` nearest centres (a ball query the graph search missed, ~1% of memberships at 100k points, is usually
 * found this way), and, when some balls were capped, the capped balls alone (an index of their centres, out to the
 * largest capped radius). Updates `counts` and `nearest`; returns how many points that last check left unsettled
 * because it hit the cap too.
 */
function secondLook(
  centres: VectorSet, centreIndex: AnnIndex, radii: Float64Array, members: VectorSet, memberIndex: AnnIndex, cappedRows: number[],
  counts: Int32Array, nearest: Float64Array, pass: Pass,
): number {
  const capped = new Uint8Array(centres.ids.length);
  for (const c of cappedRows) capped[c] = 1;
  const cappedIndex = cappedRows.length ? AnnIndex.build(subset(centres, cappedRows), memberIndex.params) : null;
  const cappedRadius = cappedRows.reduce((a, c) => Math.max(a, radii[c]!), 0);
  let unchecked = 0;
  for (let m = 0; m < counts.length; m++) {
    if (counts[m]) continue;
    const q = row(members, m);
    const near = centreIndex.knn(q, pass.probe);
    near.ids.forEach((c, t) => {
      if (!capped[c] && near.distances[t]! <= radii[c]!) {
        counts[m]!++;
        if (near.distances[t]! < nearest[c]!) nearest[c] = near.distances[t]!;
      }
    });
    if (!cappedIndex) continue;
    const around = ballQuery(cappedIndex, q, cappedRadius, pass.probe, pass.maxProbe);
    if (around.capped) unchecked++;
    for (let t = 0; t < around.members; t++) {
      if (around.nearest.distances[t]! <= radii[cappedRows[around.nearest.ids[t]!]!]!) counts[m]!++;
    }
  }
  return unchecked;
}

export interface PrdcOptions {
  /** Neighbours for the radii. */
  k: number;
  /** First k-NN query size of a ball query (default 4k, at least 32). */
  probe?: number;
  /** Largest ball enumerated in full (default 4,096). */
  maxProbe?: number;
  /** Bootstrap seed (default 1). */
  seed?: number;
  onProgress?: OnProgress;
}

export function prdc(reference: VectorSet, refIndex: AnnIndex, candidate: VectorSet, candIndex: AnnIndex, options: PrdcOptions): PrdcResult {
  const { k, seed = 1, onProgress } = options;
  const pass: Pass = { probe: options.probe ?? Math.max(4 * k, 32), maxProbe: options.maxProbe ?? 4096, onProgress };
  const { probe, maxProbe } = pass;
  const N = reference.ids.length;
  const M = candidate.ids.length;
  const { radii: r, unreachable: refUnreachable } = knnRadii(reference, refIndex, k, onProgress, 'reference radii');
  const { radii: rc, unreachable: candUnreachable } = knnRadii(candidate, candIndex, k, onProgress, 'candidate radii');
  // Reference balls over the candidates give density, precision and coverage; candidate balls over the reference, recall.
  const byRef = memberships(reference, refIndex, r, candidate, candIndex, candUnreachable, pass, 'reference balls');
  const byCand = memberships(candidate, candIndex, rc, reference, refIndex, refUnreachable, pass, 'candidate balls');
  const balls = byRef.counts;
  const inManifold = Uint8Array.from(balls, (c) => (c > 0 ? 1 : 0));
  const covered = Uint8Array.from(byRef.nearest, (d, i) => (d <= r[i]! ? 1 : 0));
  const inCandidateManifold = Uint8Array.from(byCand.counts, (c) => (c > 0 ? 1 : 0));

  const ci = (v: ArrayLike<number>, n: number, scale = 1) => bootstrapCi((idx) => mean(v, idx) / scale, n, { resamples: 500, seed });
  return {
    k,
    probe,
    maxProbe,
    precision: { value: mean(inManifold), ci: ci(inManifold, M) },
    recall: { value: mean(inCandidateManifold), ci: ci(inCandidateManifold, N) },
    density: { value: mean(balls) / k, ci: ci(balls, M, k) },
    coverage: { value: mean(covered), ci: ci(covered, N) },
    capped: { referenceBalls: byRef.capped, candidateBalls: byCand.capped, uncheckedCandidates: byRef.unchecked, uncheckedReference: byCand.unchecked },
    unreachable: { reference: refUnreachable.length, candidate: candUnreachable.length },
    reference: { radius: r, nearestCandidate: byRef.nearest, covered },
    candidate: { balls, inManifold },
  };
}
