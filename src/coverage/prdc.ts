/**
 * Precision, recall, density and coverage of a candidate set against a reference set (Naeem et al. 2020,
 * "Reliable Fidelity and Diversity Metrics for Generative Models"), Euclidean on L2-normalised rows, with k-NN radii:
 *   r(x_i)  = distance from reference x_i to its k-th nearest other reference point; r'(y_j) likewise among candidates
 *   precision = (1/M) Σ_j 1[∃ i: |y_j − x_i| ≤ r(x_i)]          candidates inside the reference manifold
 *   recall    = (1/N) Σ_i 1[∃ j: |x_i − y_j| ≤ r'(y_j)]         reference points inside the candidate manifold
 *   density   = (1/(kM)) Σ_j Σ_i 1[|y_j − x_i| ≤ r(x_i)]        how many reference balls hold each candidate (≈1 when alike)
 *   coverage  = (1/N) Σ_i 1[min_j |x_i − y_j| ≤ r(x_i)]         reference points with a candidate inside their ball
 * Neighbours come from HNSW indexes (ann-index.ts), so no N×M matrix is ever formed: a point's ball-membership is
 * checked among its nearest points of the other set, starting with `probe` (default 4k, at least 32) and doubling
 * until the farthest one returned lies beyond the other set's largest radius — no ball farther away can hold the
 * point, so the counts are exact up to the index's own approximation — or until `maxProbe` (default 1,024). Confidence intervals: percentile bootstrap over
 * the per-point indicators (the radii held fixed), 500 resamples, seeded.
 */
import { bootstrapCi, type Interval } from '../detect/metrics.js';
import type { AnnIndex } from './ann-index.js';
import { row, type VectorSet } from './vectors.js';

export interface Metric {
  value: number;
  ci: Interval;
}

export interface PrdcResult {
  k: number;
  probe: number;
  precision: Metric;
  recall: Metric;
  density: Metric;
  coverage: Metric;
  /** Per reference point: its radius, the distance to its nearest candidate, and whether that is inside. */
  reference: { radius: Float64Array; nearestCandidate: Float64Array; covered: Uint8Array };
  /** Per candidate: reference balls holding it (density contribution ×k) and whether any does. */
  candidate: { balls: Int32Array; inManifold: Uint8Array };
}

/** Distance from each indexed point to its k-th nearest other point of the same set. */
export function knnRadii(set: VectorSet, index: AnnIndex, k: number): Float64Array {
  const n = set.ids.length;
  const radii = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const nb = index.knn(row(set, i), k + 1);
    // The point itself is (almost always) its own nearest neighbour; drop it by id.
    const others = nb.distances.filter((_, t) => nb.ids[t] !== i);
    radii[i] = others[Math.min(k, others.length) - 1] ?? 0;
  }
  return radii;
}

const mean = (v: ArrayLike<number>, idx?: Int32Array): number => {
  let s = 0;
  const n = idx ? idx.length : v.length;
  for (let t = 0; t < n; t++) s += v[idx ? idx[t]! : t]!;
  return n ? s / n : NaN;
};

/** Neighbours of `query` in `index` out to at least `reach` (or `maxProbe` of them). */
function neighboursWithin(index: AnnIndex, query: number[], reach: number, probe: number, maxProbe: number) {
  let p = Math.min(probe, index.size);
  for (;;) {
    const nb = index.knn(query, p);
    const farthest = nb.distances[nb.distances.length - 1] ?? Infinity;
    if (farthest > reach || p >= index.size || p >= maxProbe) return nb;
    p = Math.min(2 * p, index.size, maxProbe);
  }
}

export function prdc(
  reference: VectorSet, refIndex: AnnIndex, candidate: VectorSet, candIndex: AnnIndex, k: number, probe = Math.max(4 * k, 32), seed = 1, maxProbe = 1024,
): PrdcResult {
  const N = reference.ids.length;
  const M = candidate.ids.length;
  const r = knnRadii(reference, refIndex, k);
  const rc = knnRadii(candidate, candIndex, k);

  const balls = new Int32Array(M);
  const inManifold = new Uint8Array(M);
  const rMax = r.reduce((a, b) => Math.max(a, b), 0);
  const rcMax = rc.reduce((a, b) => Math.max(a, b), 0);
  for (let j = 0; j < M; j++) {
    const nb = neighboursWithin(refIndex, row(candidate, j), rMax, probe, maxProbe);
    let c = 0;
    nb.ids.forEach((i, t) => { if (nb.distances[t]! <= r[i]!) c++; });
    balls[j] = c;
    inManifold[j] = c > 0 ? 1 : 0;
  }
  const covered = new Uint8Array(N);
  const nearestCandidate = new Float64Array(N);
  const inCandidateManifold = new Uint8Array(N);
  for (let i = 0; i < N; i++) {
    const nb = neighboursWithin(candIndex, row(reference, i), rcMax, probe, maxProbe);
    nearestCandidate[i] = nb.distances[0] ?? Infinity;
    covered[i] = nearestCandidate[i]! <= r[i]! ? 1 : 0;
    inCandidateManifold[i] = nb.ids.some((j, t) => nb.distances[t]! <= rc[j]!) ? 1 : 0;
  }
  const ci = (v: ArrayLike<number>, n: number, scale = 1) => bootstrapCi((idx) => mean(v, idx) / scale, n, { resamples: 500, seed });
  return {
    k,
    probe,
    precision: { value: mean(inManifold), ci: ci(inManifold, M) },
    recall: { value: mean(inCandidateManifold), ci: ci(inCandidateManifold, N) },
    density: { value: mean(balls) / k, ci: ci(balls, M, k) },
    coverage: { value: mean(covered), ci: ci(covered, N) },
    reference: { radius: r, nearestCandidate, covered },
    candidate: { balls, inManifold },
  };
}
