/**
 * Exact binomial tail probabilities and Clopper–Pearson bounds on a proportion.
 *   binomialCdf(k, n, p) = Σ_{j ≤ k} C(n, j) p^j (1 − p)^(n − j), summed in log space outward from k (the side away
 *                  from the mode) until a term falls below 1e-17 of the sum; log C(n, j) from a Lanczos log Γ
 *                  (relative error ≲ 1e-8 at n = 1e6, far below any confidence-level effect).
 *   binomialUpperBound(k, n, c) = the one-sided upper bound; clopperPearson(k, n, c) = the two-sided interval,
 *                  each end one-sided at (1 + c)/2.
 */
import { UsageError } from '../errors.js';
import { checkConfidence, type Interval } from './interval.js';

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** log Γ(x) for x ≥ 0.5 (Lanczos, g = 7). */
export function logGamma(x: number): number {
  if (x < 0.5) throw new UsageError(`logGamma needs x >= 0.5, got ${x}`);
  const z = x - 1;
  let a = LANCZOS[0] as number;
  for (let i = 1; i < 9; i++) a += (LANCZOS[i] as number) / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** log P(X = k), X ~ Binomial(n, p), 0 < p < 1, integer 0 ≤ k ≤ n. */
export function logBinomialPmf(k: number, n: number, p: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

function checkCount(k: number, n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${what}: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(k)) throw new UsageError(`${what}: k must be an integer, got ${k}`);
}

export function binomialCdf(k: number, n: number, p: number): number {
  checkCount(k, n, 'binomialCdf');
  if (!(p >= 0 && p <= 1)) throw new UsageError(`binomialCdf: p must be in [0, 1], got ${p}`);
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p === 0) return 1;
  if (p === 1) return 0;
  const mode = Math.min(n, Math.floor((n + 1) * p));
  const odds = p / (1 - p);
  if (k < mode) {
    // Lower tail: terms grow up to k, so sum k, k−1, … relative to the k term.
    let term = 1;
    let sum = 1;
    for (let j = k; j > 0 && term > 1e-17 * sum; j--) {
      term *= j / (n - j + 1) / odds;
      sum += term;
    }
    return Math.exp(logBinomialPmf(k, n, p) + Math.log(sum));
  }
  // Upper tail from k + 1 (past the mode, terms shrink), subtracted from 1.
  let term = 1;
  let sum = 1;
  for (let j = k + 1; j < n && term > 1e-17 * sum; j++) {
    term *= ((n - j) / (j + 1)) * odds;
    sum += term;
  }
  return 1 - Math.exp(logBinomialPmf(k + 1, n, p) + Math.log(sum));
}

/**
 * The exact one-sided Clopper–Pearson upper bound on a proportion after k successes in n trials: the p with
 * P(X ≤ k; n, p) = 1 − confidence (bisection; 1 for k = n; 1 − (1 − c)^(1/n) in closed form for k = 0).
 */
export function binomialUpperBound(k: number, n: number, confidence = 0.95): number {
  checkCount(k, n, 'binomialUpperBound');
  if (n === 0 || k < 0 || k > n)
    throw new UsageError(`binomialUpperBound needs 0 <= k <= n, n >= 1; got k=${k}, n=${n}`);
  checkConfidence(confidence);
  const alpha = 1 - confidence;
  if (k === n) return 1;
  if (k === 0) return -Math.expm1(Math.log(alpha) / n);
  // P(X ≤ k; n, p) decreases in p: bisect for the crossing of alpha.
  let lo = 0;
  let hi = 1;
  for (let it = 0; it < 200 && hi - lo > 1e-15 * hi; it++) {
    const mid = (lo + hi) / 2;
    if (binomialCdf(k, n, mid) > alpha) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The exact two-sided Clopper–Pearson interval for a proportion k/n at `confidence`: each end a one-sided bound at
 * (1 + confidence)/2; by the symmetry X ~ Bin(n, p) ⇔ n − X ~ Bin(n, 1 − p), lo = 1 − upper(n − k). lo = 0 at k = 0,
 * hi = 1 at k = n.
 */
export function clopperPearson(k: number, n: number, confidence = 0.95): Interval {
  checkCount(k, n, 'clopperPearson');
  if (n === 0 || k < 0 || k > n) throw new UsageError(`clopperPearson needs 0 <= k <= n, n >= 1; got k=${k}, n=${n}`);
  checkConfidence(confidence);
  const oneSided = (1 + confidence) / 2;
  return { lo: k === 0 ? 0 : 1 - binomialUpperBound(n - k, n, oneSided), hi: binomialUpperBound(k, n, oneSided) };
}
