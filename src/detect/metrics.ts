/**
 * Detector evaluation statistics. A score is "higher = more likely synthetic"; label 1 = synthetic, 0 = human.
 * A document is flagged synthetic iff score > threshold (strict), everywhere in this module.
 *
 *   auroc        = (U / (n1 n0)),  U = R1 − n1 (n1 + 1) / 2  (Mann–Whitney; R1 = sum of the synthetic scores'
 *                  ranks among all scores, tied scores sharing their average rank), i.e.
 *                  P(S > H) + ½ P(S = H) for a random synthetic S and human H.
 *   rocCurve     = (fpr, tpr) of the rule "score > t" for t = every distinct score, descending, then −∞.
 *   thresholdAtFpr(h, α)
 *                = the smallest t among the human scores with #{h_i > t} / n ≤ α. The largest human score
 *                  always qualifies (nothing is strictly above it), so no +∞ candidate is needed; ties can
 *                  make the achieved FPR lower than α.
 *   tprAtFpr     = #{synthetic s_i > t} / n1 for that t, computed from the human scores alone.
 *   binomialCdf(k, n, p) = Σ_{j ≤ k} C(n, j) p^j (1 − p)^(n − j), summed in log space outward from k
 *                  (the side away from the mode) until a term falls below 1e-17 of the sum; log C(n, j) from a
 *                  Lanczos log Γ (relative error ≲ 1e-8 at n = 1e6, far below any confidence-level effect).
 *   fprUpperBound(k, n, c)
 *                = the exact one-sided Clopper–Pearson upper bound: the p with P(X ≤ k; n, p) = 1 − c
 *                  (bisection; 1 for k = n; 1 − (1 − c)^(1/n) in closed form for k = 0).
 *   clopperPearson(k, n, c)
 *                = the exact two-sided interval, each end one-sided at (1 + c)/2.
 *   minHumanForFpr(α, c)
 *                = the smallest n with fprUpperBound(0, n, c) ≤ α, i.e. n = ⌈ln(1 − c) / ln(1 − α)⌉:
 *                  that many human documents with no false positive certify FPR ≤ α at confidence c.
 *                  At c = 0.95 this is the "rule of three", n ≈ 3 / α (−ln 0.05 = 2.996).
 *   bootstrapCi  = percentile bootstrap: the (1−c)/2 and (1+c)/2 quantiles (linear interpolation between
 *                  order statistics, R type 7) of the statistic over resamples of the indices with
 *                  replacement; the stratified variant resamples each label class separately, keeping its size.
 * Randomness is mulberry32, seeded (default seed 1), so every result is reproducible.
 */
import { UsageError } from '../errors.js';
import { mulberry32 } from '../random.js';
import { quantileSorted } from '../stats/quantiles.js';

export { quantileSorted };

export interface RocPoint {
  fpr: number;
  tpr: number;
  threshold: number;
}

export interface FprThreshold {
  threshold: number;
  /** Achieved empirical FPR, flagged / n. */
  fpr: number;
  flagged: number;
  n: number;
}

export interface OperatingPoint {
  threshold: number;
  fpr: number;
  fp: number;
  nHuman: number;
  tpr: number;
  tp: number;
  nSynthetic: number;
}

export interface BootstrapOptions {
  resamples?: number;
  confidence?: number;
  seed?: number;
}

export interface Interval {
  lo: number;
  hi: number;
}

/** Scores split by label, validated (no NaN, both classes non-empty). */
export function splitByLabel(scores: ArrayLike<number>, labels: ArrayLike<0 | 1>): { human: Float64Array; synthetic: Float64Array } {
  if (scores.length !== labels.length) throw new UsageError(`${scores.length} scores but ${labels.length} labels`);
  const human: number[] = [];
  const synthetic: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    if (Number.isNaN(s)) throw new UsageError(`score ${i} is NaN`);
    const l = labels[i];
    if (l === 1) synthetic.push(s);
    else if (l === 0) human.push(s);
    else throw new UsageError(`label ${i} is ${String(l)}, not 0 or 1`);
  }
  if (human.length === 0 || synthetic.length === 0) throw new UsageError('both classes (human 0, synthetic 1) need at least one score');
  return { human: Float64Array.from(human), synthetic: Float64Array.from(synthetic) };
}

export function auroc(scores: ArrayLike<number>, labels: ArrayLike<0 | 1>): number {
  const { human, synthetic } = splitByLabel(scores, labels);
  const n1 = synthetic.length;
  const n0 = human.length;
  const all = new Float64Array(n0 + n1);
  all.set(human);
  all.set(synthetic, n0);
  const order = new Uint32Array(all.length).map((_, i) => i).sort((a, b) => (all[a] as number) - (all[b] as number) || 0);
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && all[order[j + 1] as number] === all[order[i] as number]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let m = i; m <= j; m++) if ((order[m] as number) >= n0) rankSum += avgRank;
    i = j + 1;
  }
  return (rankSum - (n1 * (n1 + 1)) / 2) / (n1 * n0);
}

export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<0 | 1>): RocPoint[] {
  const { human, synthetic } = splitByLabel(scores, labels);
  const h = Float64Array.from(human).sort().reverse();
  const s = Float64Array.from(synthetic).sort().reverse();
  const first = Math.max(h[0] as number, s[0] as number);
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: first }];
  let i = 0;
  let j = 0;
  let t = first;
  while (i < h.length || j < s.length) {
    while (i < h.length && h[i] === t) i++;
    while (j < s.length && s[j] === t) j++;
    const next = Math.max(i < h.length ? (h[i] as number) : -Infinity, j < s.length ? (s[j] as number) : -Infinity);
    // A −∞ score is never strictly above any threshold: the point at t = −∞ was already pushed.
    if (i === h.length && j === s.length && t === -Infinity) break;
    points.push({ fpr: i / h.length, tpr: j / s.length, threshold: next });
    t = next;
  }
  return points;
}

export function thresholdAtFpr(humanScores: ArrayLike<number>, targetFpr: number): FprThreshold {
  const n = humanScores.length;
  if (n === 0) throw new UsageError('thresholdAtFpr needs at least one human score');
  if (!(targetFpr >= 0)) throw new UsageError(`target FPR must be >= 0, got ${targetFpr}`);
  const sorted = Float64Array.from(humanScores).sort();
  if (Number.isNaN(sorted[n - 1])) throw new UsageError('human scores contain NaN');
  // kMax = the most false positives allowed: the largest k ≤ n − 1 with k / n ≤ target (exact in float64).
  let k = Math.min(n - 1, Math.floor(targetFpr * n));
  while (k + 1 <= n - 1 && (k + 1) / n <= targetFpr) k++;
  while (k > 0 && k / n > targetFpr) k--;
  const threshold = sorted[n - 1 - k] as number;
  const flagged = countAbove(sorted, threshold);
  return { threshold, fpr: flagged / n, flagged, n };
}

/** #{sorted[i] > t} for ascending `sorted`. */
function countAbove(sorted: Float64Array, t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) > t) hi = mid;
    else lo = mid + 1;
  }
  return sorted.length - lo;
}

/** Threshold from the human scores (thresholdAtFpr), with the counts on both classes. */
export function operatingPoint(scores: ArrayLike<number>, labels: ArrayLike<0 | 1>, targetFpr: number): OperatingPoint {
  const { human, synthetic } = splitByLabel(scores, labels);
  const th = thresholdAtFpr(human, targetFpr);
  let tp = 0;
  for (const s of synthetic) if (s > th.threshold) tp++;
  return { threshold: th.threshold, fpr: th.fpr, fp: th.flagged, nHuman: th.n, tpr: tp / synthetic.length, tp, nSynthetic: synthetic.length };
}

export function tprAtFpr(scores: ArrayLike<number>, labels: ArrayLike<0 | 1>, targetFpr: number): number {
  return operatingPoint(scores, labels, targetFpr).tpr;
}

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

export function fprUpperBound(k: number, n: number, confidence = 0.95): number {
  checkCount(k, n, 'fprUpperBound');
  if (n === 0 || k < 0 || k > n) throw new UsageError(`fprUpperBound needs 0 <= k <= n, n >= 1; got k=${k}, n=${n}`);
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
  return { lo: k === 0 ? 0 : 1 - fprUpperBound(n - k, n, oneSided), hi: fprUpperBound(k, n, oneSided) };
}

export function minHumanForFpr(targetFpr: number, confidence = 0.95): number {
  if (!(targetFpr > 0 && targetFpr < 1)) throw new UsageError(`target FPR must be in (0, 1), got ${targetFpr}`);
  checkConfidence(confidence);
  let n = Math.max(1, Math.ceil(Math.log(1 - confidence) / Math.log1p(-targetFpr)));
  // Guard the float rounding of the ceiling in both directions.
  while (n > 1 && fprUpperBound(0, n - 1, confidence) <= targetFpr) n--;
  while (fprUpperBound(0, n, confidence) > targetFpr) n++;
  return n;
}

function checkConfidence(c: number): void {
  if (!(c > 0 && c < 1)) throw new UsageError(`confidence must be in (0, 1), got ${c}`);
}

/** Gathers values[idx[i]] — the helper a bootstrap statistic needs. */
export function take<T>(values: ArrayLike<T>, idx: Int32Array): T[] {
  return Array.from(idx, (i) => values[i] as T);
}

export function bootstrapCi(statistic: (idx: Int32Array) => number, n: number, opts: BootstrapOptions = {}): Interval {
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`bootstrap needs n >= 1, got ${n}`);
  return percentileBootstrap(statistic, [Int32Array.from({ length: n }, (_, i) => i)], opts);
}

/** Resamples each label class separately (sizes kept), so every resample has both classes. */
export function bootstrapCiStratified(statistic: (idx: Int32Array) => number, labels: ArrayLike<0 | 1>, opts: BootstrapOptions = {}): Interval {
  const strata: number[][] = [[], []];
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l !== 0 && l !== 1) throw new UsageError(`label ${i} is ${String(l)}, not 0 or 1`);
    strata[l]?.push(i);
  }
  const nonEmpty = strata.filter((s) => s.length > 0).map((s) => Int32Array.from(s));
  if (nonEmpty.length === 0) throw new UsageError('bootstrap needs at least one observation');
  return percentileBootstrap(statistic, nonEmpty, opts);
}

function percentileBootstrap(statistic: (idx: Int32Array) => number, strata: Int32Array[], opts: BootstrapOptions): Interval {
  const resamples = opts.resamples ?? 1000;
  const confidence = opts.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) throw new UsageError(`resamples must be a positive integer, got ${resamples}`);
  checkConfidence(confidence);
  const rng = mulberry32(opts.seed ?? 1);
  const total = strata.reduce((a, s) => a + s.length, 0);
  const stats = new Float64Array(resamples);
  const idx = new Int32Array(total);
  for (let b = 0; b < resamples; b++) {
    let o = 0;
    for (const s of strata) for (let i = 0; i < s.length; i++) idx[o++] = s[Math.floor(rng() * s.length)] as number;
    const v = statistic(idx);
    if (Number.isNaN(v)) throw new UsageError(`bootstrap statistic returned NaN on resample ${b}`);
    stats[b] = v;
  }
  stats.sort();
  return { lo: quantileSorted(stats, (1 - confidence) / 2), hi: quantileSorted(stats, (1 + confidence) / 2) };
}
