/**
 * How the reference LM's per-token surprise is distributed within a document, beyond its mean (lm-signals.ts):
 * machine text is not only more predictable on average, its predictability is more uniform. Computed from the
 * per-token values the scoring graph returns (log p of the observed token, entropy H_t, rank_t), every scored token
 * once; nothing beyond those crosses from the runtime.
 *
 *   rank_top1, rank_top10, rank_top100, rank_top1000   share of tokens whose rank is ≤ 1, 10, 100, 1000
 *                                                      (GLTR's buckets, Gehrmann et al. 2019, cumulative)
 *   entropy_q10, entropy_q50, entropy_q90              10th, 50th, 90th percentiles of H_t (numpy's linear rule)
 *   nll_sd, entropy_sd                                 population sds of −log p(x_t) and of H_t over the tokens
 *   surprise_sd                                        population sd of −log p(x_t) − H_t, the per-token term of
 *                                                      Fast-DetectGPT's numerator
 */
import { quantileSorted } from '../stats/index.js';

export interface TokenDistribution {
  rank_top1: number;
  rank_top10: number;
  rank_top100: number;
  rank_top1000: number;
  entropy_q10: number;
  entropy_q50: number;
  entropy_q90: number;
  nll_sd: number;
  entropy_sd: number;
  surprise_sd: number;
}

export const TOKEN_DISTRIBUTION_FIELDS = [
  'rank_top1',
  'rank_top10',
  'rank_top100',
  'rank_top1000',
  'entropy_q10',
  'entropy_q50',
  'entropy_q90',
  'nll_sd',
  'entropy_sd',
  'surprise_sd',
] as const satisfies readonly (keyof TokenDistribution)[];

/** Population sd of f(t) over t < n (two passes, so no cancellation). */
function sd(n: number, f: (t: number) => number): number {
  let sum = 0;
  for (let t = 0; t < n; t++) sum += f(t);
  const mean = sum / n;
  let ss = 0;
  for (let t = 0; t < n; t++) ss += (f(t) - mean) ** 2;
  return Math.sqrt(ss / n);
}

/** The distribution signals of one document's n ≥ 1 scored tokens (logp[t], entropy[t], rank[t], t < n). */
export function tokenDistribution(
  logp: ArrayLike<number>,
  entropy: ArrayLike<number>,
  rank: ArrayLike<number>,
): TokenDistribution {
  const n = logp.length;
  let top1 = 0,
    top10 = 0,
    top100 = 0,
    top1000 = 0;
  for (let t = 0; t < n; t++) {
    const r = rank[t]!;
    if (r <= 1) top1++;
    if (r <= 10) top10++;
    if (r <= 100) top100++;
    if (r <= 1000) top1000++;
  }
  const sortedH = Float64Array.from(entropy).sort();
  return {
    rank_top1: top1 / n,
    rank_top10: top10 / n,
    rank_top100: top100 / n,
    rank_top1000: top1000 / n,
    entropy_q10: quantileSorted(sortedH, 0.1),
    entropy_q50: quantileSorted(sortedH, 0.5),
    entropy_q90: quantileSorted(sortedH, 0.9),
    nll_sd: sd(n, (t) => -logp[t]!),
    entropy_sd: sd(n, (t) => entropy[t]!),
    surprise_sd: sd(n, (t) => -logp[t]! - entropy[t]!),
  };
}
