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
 *   logistic   L2 logistic regression on the standardised features of the chosen groups (features.ts: scalar
 *              signals, per-token distribution signals, the document embedding, Binoculars; logistic.ts), the
 *              penalty chosen by cross-validation; s = logit, p_synthetic = sigmoid(s), a probability under the
 *              calibration set's class balance.
 * Thresholds are set on human scores at the target FPR; for the logistic detector on its nested out-of-fold human
 * scores (the penalty chosen again inside each outer fold), so that the FPR it states is one it did not fit to.
 */
import { UsageError } from '../errors.js';
import {
  DEFAULT_FEATURE_GROUPS,
  FEATURES,
  feature,
  featureNames,
  featureVector,
  orientedScore,
  ZERO_SHOT_SIGNALS,
  type FeatureGroup,
  type FeatureName,
  type ScoreRow,
} from './features.js';
import { embeddingReference, signalReference, type EmbeddingReference, type SignalReference } from './drift.js';
import {
  averageModels,
  chooseL2,
  crossValidate,
  nestedOutOfFold,
  predictLogit,
  standardise,
  type LogisticModel,
} from './logistic.js';
import { bootstrapCiStratified, clopperPearson, quantileSorted, take, type Interval } from '../stats/index.js';
import { auroc, minHumanForFpr, operatingPoint, thresholdAtFpr } from './metrics.js';

export const DETECTOR_FORMAT = 'tailguard-detector/2';
/** Formats this version still reads: /1 files hold the scalar-signal logistic detector and per-domain detectors. */
export const READABLE_DETECTOR_FORMATS: readonly string[] = ['tailguard-detector/1', DETECTOR_FORMAT];

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
  /** Exact Clopper–Pearson 95% intervals of those two rates (absent in files from before they were written). */
  threshold_fpr_ci?: Interval;
  threshold_tpr_ci?: Interval;
  n_human?: number;
  n_synthetic?: number;
}

export interface DetectorFile {
  format: string;
  created_at: string;
  /** The reference LM whose signals the detector reads (scored inputs must come from the same model). */
  model: string;
  target_fpr: number;
  detector: DetectorSpec;
  /** The calibration rows' signal distribution, to warn when an input drifts from it (drift.ts). */
  reference?: SignalReference;
  /** With embedding features: where the calibration rows' embeddings lie (drift.ts). */
  reference_embedding?: EmbeddingReference;
  /** Per-domain detectors (calibrate --domain-field); rows of other domains use `detector`, the pooled one. */
  domains?: DomainDetectors;
  /** Labels from human review that overrode the calibration sets' (calibrate --reviewed). */
  reviewed?: ReviewedProvenance;
  calibration: {
    n_human: number;
    n_synthetic: number;
    folds: number;
    /** The logistic detector's feature groups and how many features they gave. */
    features?: { groups: FeatureGroup[]; count: number };
    /** Its L2 penalty: chosen by cross-validation (the curve: mean out-of-fold log-loss per grid value), and per outer fold. */
    penalty?: { l2: number; curve: { l2: number; log_loss: number }[]; fold_l2: number[]; inner_folds: number };
    stats: OperatingStats;
    /** Every candidate, for comparison: zero-shot signals, the ensemble, the logistic model. */
    candidates: Record<string, OperatingStats>;
    per_domain?: Record<string, { n_human: number; n_synthetic: number; fpr: number; tpr: number | null }>;
  };
}

/** What `calibrate --reviewed` took from a review log. */
export interface ReviewedProvenance {
  log: string;
  /** Log entries read, and of them unsure verdicts (ignored). */
  entries: number;
  unsure_ignored: number;
  /** Documents with a human or machine verdict (their latest), and how many of them calibration has rows of. */
  labelled_documents: number;
  found: number;
  /** Reviewed documents calibration has no rows of (their labels were not used). */
  not_found: number;
  /** Calibration rows the review moved, and rows it confirmed. */
  human_to_machine: number;
  machine_to_human: number;
  confirmed: number;
  /** Rows of reviewed documents added from `reviewedScores` (in neither set), with their reviewed label. */
  added: number;
}

export interface DomainDetector {
  detector: DetectorSpec;
  reference: SignalReference;
  reference_embedding?: EmbeddingReference;
  calibration: DetectorFile['calibration'];
  /** 'domain': its own out-of-fold humans certify the target FPR; 'common': the threshold of the common score scale. */
  threshold_source?: 'domain' | 'common';
  /** Its out-of-fold human scores' median and interquartile range: common-scale score = (score − location) / spread. */
  scale?: { location: number; spread: number };
  /** Its out-of-fold human FPR at its threshold, with the exact 95% interval. */
  fpr_estimate?: { value: number; ci: Interval; n_human: number };
  /** How far its ranking moved from the shared one (partial pooling). */
  moved?: { relative_weight_change: number; intercept_shift: number };
  warning?: string;
}

export interface DomainDetectors {
  field: string;
  /** Human and machine examples a domain needs, each, for a ranking of its own. */
  min_per_class: number;
  detectors: Record<string, DomainDetector>;
  /** Domains seen in calibration that use the pooled detector, and why. */
  pooled: Record<string, string>;
  /** The partially pooled model behind the domains' detectors (absent in tailguard-detector/1 files). */
  pooling?: {
    deviation_features: string[];
    l2: number;
    /** null: ∞, no deviations (cross-validation preferred the pooled ranking). */
    l2_dev: number | null;
    l2_dev_curve: { l2_dev: number | null; log_loss: number }[];
    fold_choices: { l2: number; l2_dev: number | null }[];
    /** On the common score scale (each domain's scores standardised by its own humans: DomainDetector.scale). */
    common_threshold: number;
  };
  warnings?: string[];
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
      return predictLogit(
        spec.model,
        featureVector(row, spec.model.features ?? FEATURES).map((v, j) => (Number.isNaN(v) ? spec.model.mean[j]! : v)),
      );
  }
}

export function applyDetector(spec: DetectorSpec, row: ScoreRow): Verdict {
  const score = detectorScore(spec, row);
  const p =
    spec.kind === 'logistic'
      ? sigmoid(score)
      : spec.kind === 'ensemble'
        ? score / 3
        : shareBelow(spec.humanSorted, score);
  return { score, p_synthetic: p, verdict: score > spec.threshold ? 'synthetic' : 'human' };
}

export function stats(scores: ArrayLike<number>, labels: (0 | 1)[], threshold: number, seed: number): OperatingStats {
  const at = (fpr: number) => operatingPoint(scores, labels, fpr).tpr;
  // Percentile bootstrap, resampling humans and machine texts separately (few examples → wide intervals).
  const ci = (stat: (s: number[], l: (0 | 1)[]) => number) =>
    bootstrapCiStratified((idx) => stat(take(scores, idx), take(labels, idx)), labels, { resamples: 400, seed });
  const all = Array.from(scores);
  let fp = 0;
  let tp = 0;
  let nh = 0;
  let ns = 0;
  all.forEach((s, i) => {
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
    threshold_fpr_ci: clopperPearson(fp, nh),
    threshold_tpr_ci: clopperPearson(tp, ns),
    n_human: nh,
    n_synthetic: ns,
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
export function fitEnsemble(
  human: ScoreRow[],
  synthetic: ScoreRow[],
  targetFpr: number,
): DetectorSpec & { kind: 'ensemble' } {
  const values = (rows: ScoreRow[]) => ENSEMBLE_SIGNALS.map((s) => rows.map((r) => feature(r, s)));
  const [hv, sv] = [values(human), values(synthetic)];
  const sorted = hv.map((v) => [...v].sort((a, b) => a - b));
  const fires = (v: number[][], th: number[], i: number) =>
    v.reduce((n, col, k) => n + (col[i]! < th[k]! ? 1 : 0), 0) >= 2;
  let best: { th: number[]; tpr: number; fpr: number } | null = null;
  for (const a of GRID)
    for (const b of GRID)
      for (const c of GRID) {
        // A signal fires below the (1 − q) human quantile: q = 0.9 fires on the lowest 10% of human documents.
        const th = [a, b, c].map((q, k) => quantileSorted(sorted[k]!, 1 - q));
        let fp = 0;
        for (let i = 0; i < human.length; i++) if (fires(hv, th, i)) fp++;
        if (fp / human.length > targetFpr) continue;
        let tp = 0;
        for (let i = 0; i < synthetic.length; i++) if (fires(sv, th, i)) tp++;
        if (!best || tp / synthetic.length > best.tpr)
          best = { th, tpr: tp / synthetic.length, fpr: fp / human.length };
      }
  // The all-1 grid point never fires (nothing is below the minimum), so `best` always exists.
  const [mean_nll, burstiness, mattr] = best!.th as [number, number, number];
  return { kind: 'ensemble', thresholds: { mean_nll, burstiness, mattr }, threshold: 1.5 };
}

export interface CalibrateOptions {
  targetFpr: number;
  /** Outer cross-validation folds (default 5): every stated rate is measured on rows the model did not see. */
  folds?: number;
  /** Folds of the penalty's choice inside each outer training fold (default 4). */
  innerFolds?: number;
  /** A fixed L2 penalty instead of one chosen by cross-validation. */
  l2?: number;
  /** Penalties to choose from (default logistic.L2_GRID). */
  l2Grid?: readonly number[];
  seed?: number;
  model: string;
  /** Feature groups of the logistic detector (default DEFAULT_FEATURE_GROUPS). */
  features?: readonly FeatureGroup[];
  /** Domain of each human and synthetic row (same order), for per-domain FPR/TPR. */
  humanDomains?: (string | undefined)[];
  syntheticDomains?: (string | undefined)[];
}

/** Every calibration row's out-of-fold score: what the stated rates are computed from (calibrate writes it out). */
export interface OutOfFold {
  ids: string[];
  labels: (0 | 1)[];
  domains?: (string | undefined)[];
  fold: Int32Array;
  scores: Float64Array;
  /** The threshold each row is judged by (its domain's, or the common one). */
  thresholds: Float64Array;
}

export interface Calibration {
  file: DetectorFile;
  outOfFold: OutOfFold;
}

/** The rows' feature matrix, an optional signal a row lacks imputed by its column's mean. */
export function designMatrix(rows: ScoreRow[], names: readonly string[]): number[][] {
  return imputeMeans(rows.map((r) => featureVector(r, names)));
}

/** The feature names `groups` give for these rows (the embedding's size read from the first row). */
export function calibrationFeatures(rows: ScoreRow[], groups: readonly FeatureGroup[]): string[] {
  const dim = groups.includes('embedding') ? (rows[0]?.embedding?.length ?? 0) : 0;
  if (groups.includes('embedding') && dim === 0) {
    throw new UsageError(
      "the embedding feature group needs each row's document embedding: calibrate on score directories with embeddings.npy, or on corpora (scored with embeddings)",
    );
  }
  return featureNames(groups, dim);
}

export function checkCalibrationSizes(nHuman: number, nSynthetic: number, targetFpr: number): void {
  if (!(targetFpr > 0 && targetFpr < 1)) throw new UsageError(`\`targetFpr\` must be in (0, 1) (got ${targetFpr})`);
  const need = minHumanForFpr(targetFpr);
  if (nHuman < need) {
    throw new UsageError(
      `${nHuman} human documents cannot certify a ${targetFpr * 100}% false-positive rate: at least ${need} are needed ` +
        `(with none flagged, that many bound the FPR at 95% confidence); add human examples or raise \`targetFpr\``,
    );
  }
  if (nSynthetic < 10)
    throw new UsageError(`${nSynthetic} synthetic documents are too few to calibrate on (need at least 10)`);
}

/**
 * Fits the calibrated (logistic) detector and measures every candidate. The penalty is chosen by cross-validation;
 * the threshold and every rate come from nested out-of-fold scores (the penalty chosen again inside each outer fold).
 */
export function calibrate(human: ScoreRow[], synthetic: ScoreRow[], opts: CalibrateOptions): Calibration {
  const { targetFpr } = opts;
  checkCalibrationSizes(human.length, synthetic.length, targetFpr);
  const folds = opts.folds ?? 5;
  const innerFolds = opts.innerFolds ?? 4;
  const seed = opts.seed ?? 1;
  const groups = opts.features ?? DEFAULT_FEATURE_GROUPS;
  const rows = [...human, ...synthetic];
  const labels: (0 | 1)[] = [...human.map(() => 0 as const), ...synthetic.map(() => 1 as const)];
  const names = calibrationFeatures(rows, groups);
  const X = designMatrix(rows, names);

  const candidates: Record<string, OperatingStats> = {};
  for (const signal of ZERO_SHOT_SIGNALS) {
    const s = rows.map((r) => orientedScore(r, signal));
    candidates[signal] = stats(s, labels, thresholdAtFpr(s.slice(0, human.length), targetFpr).threshold, seed);
  }
  const ensemble = fitEnsemble(human, synthetic, targetFpr);
  candidates.ensemble_2of3 = stats(
    rows.map((r) => detectorScore(ensemble, r)),
    labels,
    ensemble.threshold,
    seed,
  );

  const fitted = (Xm: number[][], featureList: string[]) => {
    const cv = { grid: opts.l2Grid, folds, innerFolds, seed };
    const choice =
      opts.l2 === undefined ? chooseL2(Xm, labels, { grid: opts.l2Grid, folds, seed }) : { l2: opts.l2, curve: [] };
    const oof =
      opts.l2 === undefined
        ? nestedOutOfFold(Xm, labels, cv)
        : { ...crossValidate(Xm, labels, { folds, seed, l2: opts.l2 }), foldL2: [] };
    const threshold = thresholdAtFpr(oof.oofScores.subarray(0, human.length), targetFpr).threshold;
    // Deployed: the average of the outer folds' models, so new rows are scored on the scale of the out-of-fold scores
    // the threshold was set on (a refit on every row shrinks less and spreads human scores wider: more false positives).
    const { mean, scale } = standardise(Xm);
    const model = { ...averageModels(oof.foldModels, { mean, scale }), l2: choice.l2, features: featureList };
    return { choice, oof, threshold, model };
  };
  const main = fitted(X, names);
  candidates.logistic = stats(main.oof.oofScores, labels, main.threshold, seed);
  if (names.length !== FEATURES.length || names.some((n, j) => n !== FEATURES[j])) {
    // The scalar signals alone, for comparison with any other feature set (another set may have as many features).
    const sig = fitted(designMatrix(rows, FEATURES), [...FEATURES]);
    candidates.logistic_signals = stats(sig.oof.oofScores, labels, sig.threshold, seed);
  }
  const oof = Array.from(main.oof.oofScores);
  const threshold = main.threshold;

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
  const file: DetectorFile = {
    format: DETECTOR_FORMAT,
    created_at: new Date().toISOString(),
    model: opts.model,
    target_fpr: targetFpr,
    detector: { kind: 'logistic', model: main.model, threshold },
    reference: signalReference(rows),
    ...(groups.includes('embedding') ? withEmbeddingReference(rows) : {}),
    calibration: {
      n_human: human.length,
      n_synthetic: synthetic.length,
      folds,
      features: { groups: [...groups], count: names.length },
      penalty: {
        l2: main.choice.l2,
        curve: main.choice.curve.map((c) => ({ l2: c.l2, log_loss: c.logLoss })),
        fold_l2: main.oof.foldL2,
        inner_folds: opts.l2 === undefined ? innerFolds : 0,
      },
      stats: candidates.logistic,
      candidates,
      ...(perDomain ? { per_domain: perDomain } : {}),
    },
  };
  const outOfFold: OutOfFold = {
    ids: rows.map((r) => r.id),
    labels,
    ...(opts.humanDomains && opts.syntheticDomains
      ? { domains: [...opts.humanDomains, ...opts.syntheticDomains] }
      : {}),
    fold: main.oof.fold,
    scores: main.oof.oofScores,
    thresholds: new Float64Array(rows.length).fill(threshold),
  };
  return { file, outOfFold };
}

/** `{ reference_embedding }` for rows with embeddings, else nothing. */
export function withEmbeddingReference(rows: ScoreRow[]): { reference_embedding?: EmbeddingReference } {
  const e = embeddingReference(rows);
  return e ? { reference_embedding: e } : {};
}

export function calibrateDetector(human: ScoreRow[], synthetic: ScoreRow[], opts: CalibrateOptions): DetectorFile {
  return calibrate(human, synthetic, opts).file;
}

/** A zero-shot signal detector from human reference scores alone: threshold at the target FPR. */
export function zeroShotDetector(
  signal: FeatureName,
  humanScores: number[],
  targetFpr: number,
): DetectorSpec & { kind: 'signal' } {
  const sorted = [...humanScores].sort((a, b) => a - b);
  return { kind: 'signal', signal, threshold: thresholdAtFpr(sorted, targetFpr).threshold, humanSorted: sorted };
}
