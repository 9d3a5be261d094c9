/**
 * The four metrics of Naeem et al. (prdc.ts) from per-point indicators, with percentile-bootstrap 95% CIs over the
 * points (the radii held fixed; 500 resamples, seeded), shared by the HNSW path (prdc.ts) and exact search
 * (exact/exact-prdc.ts) so that the same indicators give the same numbers whichever search found them.
 */
import { bootstrapCi, type Interval } from '../stats/index.js';

export interface Metric {
  value: number;
  ci: Interval;
}

export interface PrdcIndicators {
  /** Per candidate: reference balls holding it. */
  balls: ArrayLike<number>;
  /** Per candidate: 1 when some reference ball holds it. */
  inManifold: ArrayLike<number>;
  /** Per reference point: 1 when some candidate ball holds it. */
  inCandidateManifold: ArrayLike<number>;
  /** Per reference point: 1 when its nearest candidate lies inside its ball. */
  covered: ArrayLike<number>;
}

export interface PrdcMetrics {
  precision: Metric;
  recall: Metric;
  density: Metric;
  coverage: Metric;
}

const mean = (v: ArrayLike<number>, idx?: Int32Array): number => {
  let s = 0;
  const n = idx ? idx.length : v.length;
  for (let t = 0; t < n; t++) s += v[idx ? idx[t]! : t]!;
  return n ? s / n : NaN;
};

export function prdcMetrics(ind: PrdcIndicators, k: number, seed = 1): PrdcMetrics {
  const M = ind.balls.length;
  const N = ind.covered.length;
  const ci = (v: ArrayLike<number>, n: number, scale = 1) =>
    bootstrapCi((idx) => mean(v, idx) / scale, n, { resamples: 500, seed });
  return {
    precision: { value: mean(ind.inManifold), ci: ci(ind.inManifold, M) },
    recall: { value: mean(ind.inCandidateManifold), ci: ci(ind.inCandidateManifold, N) },
    density: { value: mean(ind.balls) / k, ci: ci(ind.balls, M, k) },
    coverage: { value: mean(ind.covered), ci: ci(ind.covered, N) },
  };
}
