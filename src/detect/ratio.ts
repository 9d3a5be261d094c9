/**
 * The share of synthetic documents in a corpus, corrected for the detector's errors (Rogan–Gladen).
 *
 * A detector with true-positive rate TPR and false-positive rate FPR flags a fraction
 *   q = π·TPR + (1 − π)·FPR
 * of a corpus whose true synthetic share is π, so
 *   share  π̂ = clip((q − FPR) / (TPR − FPR), 0, 1),  q = flagged / n, TPR = tpr.k / tpr.n, FPR = fpr.k / fpr.n
 *   ratio     = π̂ / (1 − π̂)   (synthetic-to-real; +∞ when π̂ = 1)
 * CI: parametric bootstrap over all three measured proportions, so the detector's calibration error widens it:
 *   q* ~ Bin(n, q)/n,  TPR* ~ Bin(tpr.n, TPR)/tpr.n,  FPR* ~ Bin(fpr.n, FPR)/fpr.n,
 *   π* = clip((q* − FPR*) / (TPR* − FPR*), 0, 1); the interval is the (1−c)/2, (1+c)/2 percentiles of π*
 *   (R type 7). A resample with TPR* ≤ FPR* says nothing about π: it counts as 0 for the lower percentile
 *   and as 1 for the upper one (conservative). ratioLo/ratioHi map shareLo/shareHi through π/(1 − π).
 * Identifiable iff TPR − FPR > 0.05; otherwise the share interval is [0, 1] (the point estimate is still
 * reported when TPR > FPR, and is NaN when TPR ≤ FPR).
 * Caveat: a proportion measured as 0 or 1 (e.g. no false positive among the calibration humans) has no
 * bootstrap spread, so its uncertainty is not reflected; use calibration sets large enough to see some errors.
 */
import { UsageError } from '../errors.js';
import { mulberry32, type Rng } from '../random.js';
import { logBinomialPmf, quantileSorted } from '../stats/index.js';

export interface Proportion {
  k: number;
  n: number;
}

export interface ShareOptions {
  confidence?: number;
  resamples?: number;
  seed?: number;
}

export interface ShareEstimate {
  observedShare: number;
  share: number;
  shareLo: number;
  shareHi: number;
  ratio: number;
  ratioLo: number;
  ratioHi: number;
  identifiable: boolean;
}

/** Smallest TPR − FPR for which the share is considered identifiable. */
export const MIN_YOUDEN = 0.05;

const clip01 = (x: number): number => Math.min(1, Math.max(0, x));
const toRatio = (share: number): number => (share >= 1 ? Infinity : share / (1 - share));

/** Rogan–Gladen share, clipped to [0, 1]; NaN when tpr ≤ fpr. */
export function roganGladen(q: number, tpr: number, fpr: number): number {
  return tpr > fpr ? clip01((q - fpr) / (tpr - fpr)) : NaN;
}

/**
 * An exact Binomial(n, p) draw by inversion, visiting outcomes from the mode outwards in order of decreasing
 * probability: O(√(n p (1 − p))) steps.
 */
export function sampleBinomial(rng: Rng, n: number, p: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return n;
  const mode = Math.min(n, Math.floor((n + 1) * p));
  const odds = p / (1 - p);
  const pMode = Math.exp(logBinomialPmf(mode, n, p));
  let u = rng() - pMode;
  let lo = mode - 1;
  let hi = mode + 1;
  let pLo = lo >= 0 ? (pMode * (lo + 1)) / (n - lo) / odds : 0;
  let pHi = hi <= n ? ((pMode * (n - hi + 1)) / hi) * odds : 0;
  while (u >= 0 && (pLo > 0 || pHi > 0)) {
    if (pHi >= pLo) {
      u -= pHi;
      if (u < 0) return hi;
      hi++;
      pHi = hi <= n ? ((pHi * (n - hi + 1)) / hi) * odds : 0;
    } else {
      u -= pLo;
      if (u < 0) return lo;
      lo--;
      pLo = lo >= 0 ? (pLo * (lo + 1)) / (n - lo) / odds : 0;
    }
  }
  return mode; // u ≥ 0 left only by float rounding of the pmf sum
}

function checkProportion(p: Proportion, what: string): void {
  if (!Number.isInteger(p.n) || p.n < 1 || !Number.isInteger(p.k) || p.k < 0 || p.k > p.n) {
    throw new UsageError(`${what} must be integer counts with 0 <= k <= n, n >= 1; got k=${p.k}, n=${p.n}`);
  }
}

export function estimateSyntheticShare(
  flagged: number,
  n: number,
  tpr: Proportion,
  fpr: Proportion,
  opts: ShareOptions = {},
): ShareEstimate {
  checkProportion({ k: flagged, n }, 'flagged/n');
  checkProportion(tpr, 'tpr');
  checkProportion(fpr, 'fpr');
  const confidence = opts.confidence ?? 0.95;
  const resamples = opts.resamples ?? 2000;
  if (!(confidence > 0 && confidence < 1)) throw new UsageError(`confidence must be in (0, 1), got ${confidence}`);
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new UsageError(`resamples must be a positive integer, got ${resamples}`);
  const q = flagged / n;
  const t = tpr.k / tpr.n;
  const f = fpr.k / fpr.n;
  const share = roganGladen(q, t, f);
  const identifiable = t - f > MIN_YOUDEN;
  let shareLo = 0;
  let shareHi = 1;
  if (identifiable) {
    const rng = mulberry32(opts.seed ?? 1);
    const forLo = new Float64Array(resamples);
    const forHi = new Float64Array(resamples);
    for (let b = 0; b < resamples; b++) {
      const qb = sampleBinomial(rng, n, q) / n;
      const tb = sampleBinomial(rng, tpr.n, t) / tpr.n;
      const fb = sampleBinomial(rng, fpr.n, f) / fpr.n;
      const s = roganGladen(qb, tb, fb);
      forLo[b] = Number.isNaN(s) ? 0 : s;
      forHi[b] = Number.isNaN(s) ? 1 : s;
    }
    forLo.sort();
    forHi.sort();
    shareLo = clip01(quantileSorted(forLo, (1 - confidence) / 2));
    shareHi = clip01(quantileSorted(forHi, (1 + confidence) / 2));
  }
  return {
    observedShare: q,
    share,
    shareLo,
    shareHi,
    ratio: Number.isNaN(share) ? NaN : toRatio(share),
    ratioLo: toRatio(shareLo),
    ratioHi: toRatio(shareHi),
    identifiable,
  };
}
