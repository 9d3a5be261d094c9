/**
 * Detector evaluation statistics (the general ones — binomial bounds, bootstrap, quantiles — live in src/stats). A score is "higher = more likely synthetic"; label 1 = synthetic, 0 = human.
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
 *   minHumanForFpr(α, c)
 *                = the smallest n with binomialUpperBound(0, n, c) ≤ α (stats/binomial.ts), i.e. n = ⌈ln(1 − c) / ln(1 − α)⌉:
 *                  that many human documents with no false positive certify FPR ≤ α at confidence c.
 *                  At c = 0.95 this is the "rule of three", n ≈ 3 / α (−ln 0.05 = 2.996).
 */
import { UsageError } from '../errors.js';
import { binomialUpperBound, checkConfidence } from '../stats/index.js';

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

/** Scores split by label, validated (no NaN, both classes non-empty). */
export function splitByLabel(
  scores: ArrayLike<number>,
  labels: ArrayLike<0 | 1>,
): { human: Float64Array; synthetic: Float64Array } {
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
  if (human.length === 0 || synthetic.length === 0)
    throw new UsageError('both classes (human 0, synthetic 1) need at least one score');
  return { human: Float64Array.from(human), synthetic: Float64Array.from(synthetic) };
}

export function auroc(scores: ArrayLike<number>, labels: ArrayLike<0 | 1>): number {
  const { human, synthetic } = splitByLabel(scores, labels);
  const n1 = synthetic.length;
  const n0 = human.length;
  const all = new Float64Array(n0 + n1);
  all.set(human);
  all.set(synthetic, n0);
  const order = new Uint32Array(all.length)
    .map((_, i) => i)
    .sort((a, b) => (all[a] as number) - (all[b] as number) || 0);
  let rankSum = 0;
  for (let i = 0; i < order.length;) {
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
  return {
    threshold: th.threshold,
    fpr: th.fpr,
    fp: th.flagged,
    nHuman: th.n,
    tpr: tp / synthetic.length,
    tp,
    nSynthetic: synthetic.length,
  };
}

export function tprAtFpr(scores: ArrayLike<number>, labels: ArrayLike<0 | 1>, targetFpr: number): number {
  return operatingPoint(scores, labels, targetFpr).tpr;
}

export function minHumanForFpr(targetFpr: number, confidence = 0.95): number {
  if (!(targetFpr > 0 && targetFpr < 1)) throw new UsageError(`target FPR must be in (0, 1), got ${targetFpr}`);
  checkConfidence(confidence);
  let n = Math.max(1, Math.ceil(Math.log(1 - confidence) / Math.log1p(-targetFpr)));
  // Guard the float rounding of the ceiling in both directions.
  while (n > 1 && binomialUpperBound(0, n - 1, confidence) <= targetFpr) n--;
  while (binomialUpperBound(0, n, confidence) > targetFpr) n++;
  return n;
}
