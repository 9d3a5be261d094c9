/**
 * Detectors of machine-written text and their calibration.
 *
 * Every detector turns a score row into a score s (higher = more likely synthetic) and flags the document as
 * synthetic iff s > threshold. Kinds:
 *   signal     one signal alone, oriented (features.ts): the zero-shot detectors (Fast-DetectGPT, likelihood,
 *              log-rank, entropy). p_synthetic = the share of the calibration human documents scoring below s.
 *   ensemble   the seeds' rule: low perplexity, low burstiness, low vocabulary richness (MATTR); synthetic when at
 *              least 2 of the 3 fire. Each fires below its own threshold, fitted to data: per-signal human
 *              quantiles chosen on a grid to maximise TPR subject to the human FPR ≤ target. s = signals fired;
 *              threshold 1.5; p_synthetic = fired / 3.
 *   logistic   L2 logistic regression on all standardised features (logistic.ts); s = logit, p_synthetic =
 *              sigmoid(s), which is a probability under the calibration set's class balance.
 * Thresholds are set on human scores at the target FPR; for the logistic detector on its out-of-fold (k-fold
 * cross-validated) human scores, so that the FPR it states is one it did not fit to.
 */
import { UsageError } from '../errors.js';
import { FEATURES, feature, featureVector, orientedScore, type FeatureName, type ScoreRow } from './features.js';
import { signalReference, type SignalReference } from './drift.js';
import { crossValidate, fitLogistic, predictLogit, type LogisticModel } from './logistic.js';
import {
  auroc, bootstrapCiStratified, minHumanForFpr, operatingPoint, quantileSorted, take, thresholdAtFpr, type Interval,
} from './metrics.js';

export const DETECTOR_FORMAT = 'tailguard-detector/1';

export type DetectorSpec =
  | { kind: 'signal'; signal: FeatureName; threshold: number; humanSorted: number[] }
  | { kind: 'ensemble'; thresholds: { mean_nll: number; burstiness: number; mattr: number }; threshold: number }
  | { kind: 'logistic'; model: LogisticModel; threshold: number };

export interface OperatingStats {
  auroc: number;
  auroc_ci: Interval;
  tpr_at_1pct_fpr: number;
  tpr_at_1pct_fpr_ci: Interval;
  tpr_at_5pct_fpr: number;
  tpr_at_5pct_fpr_ci: Interval;
  /** At the detector's own threshold, on the calibration data (out-of-fold for logistic). */
  threshold_fpr: number;
  threshold_tpr: number;
}

export interface DetectorFile {
  format: typeof DETECTOR_FORMAT;
  created_at: string;
  /** The reference LM whose signals the detector reads (scored inputs must come from the same model). */
  model: string;
  target_fpr: number;
  detector: DetectorSpec;
  /** The calibration rows' signal distribution, to warn when an input drifts from it (drift.ts). */
  reference?: SignalReference;
  /** Per-domain detectors (calibrate --domain-field); rows of other domains use `detector`, the pooled one. */
  domains?: DomainDetectors;
  calibration: {
    n_human: number;
    n_synthetic: number;
    folds: number;
    stats: OperatingStats;
    /** Every candidate, for comparison: zero-shot signals, the ensemble, the logistic model. */
    candidates: Record<string, OperatingStats>;
    per_domain?: Record<string, { n_human: number; n_synthetic: number; fpr: number; tpr: number | null }>;
  };
}

export interface DomainDetector {
  detector: DetectorSpec;
  reference: SignalReference;
  calibration: DetectorFile['calibration'];
}

export interface DomainDetectors {
  field: string;
  /** Human and machine examples a domain needs, each, for a detector of its own. */
  min_per_class: number;
  detectors: Record<string, DomainDetector>;
  /** Domains seen in calibration that use the pooled detector, and why. */
  pooled: Record<string, string>;
}

export interface Verdict {
  score: number;
  p_synthetic: number;
  verdict: 'synthetic' | 'human';
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const ENSEMBLE_SIGNALS = ['mean_nll', 'burstiness', 'mattr'] as const;

/** Share of the sorted reference values strictly below v (binary search). */
function shareBelow(sorted: readonly number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return sorted.length === 0 ? 0.5 : lo / sorted.length;
}

export function detectorScore(spec: DetectorSpec, row: ScoreRow): number {
  switch (spec.kind) {
    case 'signal':
      return orientedScore(row, spec.signal);
    case 'ensemble':
      return ENSEMBLE_SIGNALS.reduce((n, s) => n + (feature(row, s) < spec.thresholds[s] ? 1 : 0), 0);
    case 'logistic':
      // A missing optional signal takes its calibration mean (a standardised 0).
      return predictLogit(spec.model, featureVector(row, spec.model.features as FeatureName[]).map((v, j) => (Number.isNaN(v) ? spec.model.mean[j]! : v)));
  }
}

export function applyDetector(spec: DetectorSpec, row: ScoreRow): Verdict {
  const score = detectorScore(spec, row);
  const p =
    spec.kind === 'logistic' ? sigmoid(score) : spec.kind === 'ensemble' ? score / 3 : shareBelow(spec.humanSorted, score);
  return { score, p_synthetic: p, verdict: score > spec.threshold ? 'synthetic' : 'human' };
}

function stats(scores: number[], labels: (0 | 1)[], threshold: number, seed: number): OperatingStats {
  const at = (fpr: number) => operatingPoint(scores, labels, fpr).tpr;
  // Percentile bootstrap, resampling humans and machine texts separately (few examples → wide intervals).
  const ci = (stat: (s: number[], l: (0 | 1)[]) => number) =>
    bootstrapCiStratified((idx) => stat(take(scores, idx), take(labels, idx)), labels, { resamples: 400, seed });
  let fp = 0;
  let tp = 0;
  let nh = 0;
  let ns = 0;
  scores.forEach((s, i) => {
    if (labels[i] === 1) {
      ns++;
      if (s > threshold) tp++;
    } else {
      nh++;
      if (s > threshold) fp++;
    }
  });
  return {
    auroc: auroc(scores, labels),
    auroc_ci: ci((s, l) => auroc(s, l)),
    tpr_at_1pct_fpr: at(0.01),
    tpr_at_1pct_fpr_ci: ci((s, l) => operatingPoint(s, l, 0.01).tpr),
    tpr_at_5pct_fpr: at(0.05),
    tpr_at_5pct_fpr_ci: ci((s, l) => operatingPoint(s, l, 0.05).tpr),
    threshold_fpr: fp / nh,
    threshold_tpr: tp / ns,
  };
}

/** Replaces NaN (a missing optional signal) by its column's mean over the rows that have it. */
function imputeMeans(X: number[][]): number[][] {
  const d = X[0]?.length ?? 0;
  const means = Array.from({ length: d }, (_, j) => {
    const have = X.map((x) => x[j]!).filter((v) => !Number.isNaN(v));
    return have.length ? have.reduce((a, b) => a + b, 0) / have.length : 0;
  });
  return X.map((x) => x.map((v, j) => (Number.isNaN(v) ? means[j]! : v)));
}

const GRID = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 1];

/** The 2-of-3 rule's thresholds: per-signal human quantiles (low side) maximising TPR at human FPR ≤ target. */
export function fitEnsemble(human: ScoreRow[], synthetic: ScoreRow[], targetFpr: number): DetectorSpec & { kind: 'ensemble' } {
  const values = (rows: ScoreRow[]) => ENSEMBLE_SIGNALS.map((s) => rows.map((r) => feature(r, s)));
  const [hv, sv] = [values(human), values(synthetic)];
  const sorted = hv.map((v) => [...v].sort((a, b) => a - b));
  const fires = (v: number[][], th: number[], i: number) => v.reduce((n, col, k) => n + (col[i]! < th[k]! ? 1 : 0), 0) >= 2;
  let best: { th: number[]; tpr: number; fpr: number } | null = null;
  for (const a of GRID) for (const b of GRID) for (const c of GRID) {
    // A signal fires below the (1 − q) human quantile: q = 0.9 fires on the lowest 10% of human documents.
    const th = [a, b, c].map((q, k) => quantileSorted(sorted[k]!, 1 - q));
    let fp = 0;
    for (let i = 0; i < human.length; i++) if (fires(hv, th, i)) fp++;
    if (fp / human.length > targetFpr) continue;
    let tp = 0;
    for (let i = 0; i < synthetic.length; i++) if (fires(sv, th, i)) tp++;
    if (!best || tp / synthetic.length > best.tpr) best = { th, tpr: tp / synthetic.length, fpr: fp / human.length };
  }
  // The all-1 grid point never fires (nothing is below the minimum), so `best` always exists.
  const [mean_nll, burstiness, mattr] = best!.th as [number, number, number];
  return { kind: 'ensemble', thresholds: { mean_nll, burstiness, mattr }, threshold: 1.5 };
}

export interface CalibrateOptions {
  targetFpr: number;
  folds?: number;
  l2?: number;
  seed?: number;
  model: string;
  /** Domain of each human and synthetic row (same order), for per-domain FPR/TPR. */
  humanDomains?: (string | undefined)[];
  syntheticDomains?: (string | undefined)[];
}

export function calibrateDetector(human: ScoreRow[], synthetic: ScoreRow[], opts: CalibrateOptions): DetectorFile {
  const { targetFpr } = opts;
  if (!(targetFpr > 0 && targetFpr < 1)) throw new UsageError(`--fpr must be in (0, 1) (got ${targetFpr})`);
  const need = minHumanForFpr(targetFpr);
  if (human.length < need) {
    throw new UsageError(
      `${human.length} human documents cannot certify a ${targetFpr * 100}% false-positive rate: at least ${need} are needed ` +
        `(with none flagged, that many bound the FPR at 95% confidence); add human examples or raise --fpr`,
    );
  }
  if (synthetic.length < 10) throw new UsageError(`${synthetic.length} synthetic documents are too few to calibrate on (need at least 10)`);
  const folds = opts.folds ?? 5;
  const seed = opts.seed ?? 1;
  const rows = [...human, ...synthetic];
  const labels: (0 | 1)[] = [...human.map(() => 0 as const), ...synthetic.map(() => 1 as const)];
  const X = imputeMeans(rows.map((r) => featureVector(r)));

  const candidates: Record<string, OperatingStats> = {};
  for (const signal of ['fast_detect', 'mean_nll', 'mean_log_rank', 'mean_entropy'] as const) {
    const s = rows.map((r) => orientedScore(r, signal));
    candidates[signal] = stats(s, labels, thresholdAtFpr(s.slice(0, human.length), targetFpr).threshold, seed);
  }
  const ensemble = fitEnsemble(human, synthetic, targetFpr);
  candidates.ensemble_2of3 = stats(rows.map((r) => detectorScore(ensemble, r)), labels, ensemble.threshold, seed);

  const oof = Array.from(crossValidate(X, labels, { folds, seed, l2: opts.l2 }).oofScores);
  const threshold = thresholdAtFpr(oof.slice(0, human.length), targetFpr).threshold;
  const model = fitLogistic(X, labels, { l2: opts.l2, features: [...FEATURES] });
  candidates.logistic = stats(oof, labels, threshold, seed);

  let perDomain: DetectorFile['calibration']['per_domain'];
  if (opts.humanDomains && opts.syntheticDomains) {
    const domains = [...opts.humanDomains, ...opts.syntheticDomains].map((d) => d ?? '(none)');
    perDomain = {};
    for (const d of [...new Set(domains)].sort()) {
      const idx = domains.flatMap((x, i) => (x === d ? [i] : []));
      const h = idx.filter((i) => labels[i] === 0);
      const s = idx.filter((i) => labels[i] === 1);
      perDomain[d] = {
        n_human: h.length,
        n_synthetic: s.length,
        fpr: h.length ? h.filter((i) => oof[i]! > threshold).length / h.length : NaN,
        tpr: s.length ? s.filter((i) => oof[i]! > threshold).length / s.length : null,
      };
    }
  }
  return {
    format: DETECTOR_FORMAT,
    created_at: new Date().toISOString(),
    model: opts.model,
    target_fpr: targetFpr,
    detector: { kind: 'logistic', model, threshold },
    reference: signalReference(rows),
    calibration: {
      n_human: human.length,
      n_synthetic: synthetic.length,
      folds,
      stats: candidates.logistic,
      candidates,
      ...(perDomain ? { per_domain: perDomain } : {}),
    },
  };
}

/** A zero-shot signal detector from human reference scores alone: threshold at the target FPR. */
export function zeroShotDetector(signal: FeatureName, humanScores: number[], targetFpr: number): DetectorSpec & { kind: 'signal' } {
  const sorted = [...humanScores].sort((a, b) => a - b);
  return { kind: 'signal', signal, threshold: thresholdAtFpr(sorted, targetFpr).threshold, humanSorted: sorted };
}
