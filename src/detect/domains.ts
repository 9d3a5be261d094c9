/**
 * Domain-aware calibration. Likelihood signals change sign between domains (a rewrite of a casual review reads as
 * less likely than the review; a continuation of a news story as more likely), so one pooled detector averages
 * them away — but a detector per domain needs hundreds of examples. `calibrateByDomain` fits:
 *   - the pooled detector on every row (detector.ts), for rows of domains that get no ranking of their own;
 *   - a partially pooled model (partial-pooling.ts): every domain with at least `minPerClass` human and machine
 *     examples gets shared weights plus its own deviations of the intercept and the scalar signals' weights, shrunk
 *     toward the shared model with a strength chosen by cross-validation; the embedding's weights stay shared.
 * Thresholds stay honest. A domain whose out-of-fold human scores can certify the target FPR (metrics.minHumanForFpr)
 * gets its own threshold. The others use the threshold of the common score scale: each domain's scores standardised by
 * its own humans' median and interquartile range, the target FPR set over all grouped domains' standardised human
 * scores, and mapped back to each domain's scale — one human quantile everywhere, as far as the domains' tails have
 * the same shape, which is why the file also states that domain's estimated FPR with a Clopper–Pearson interval, and a
 * warning. `routeDetector` picks a row's detector.
 */
import { UsageError } from '../errors.js';
import {
  calibrate,
  calibrationFeatures,
  designMatrix,
  stats,
  withEmbeddingReference,
  type Calibration,
  type CalibrateOptions,
  type DetectorFile,
  type DetectorSpec,
  type DomainDetectors,
} from './detector.js';
import { signalReference } from './drift.js';
import { isEmbeddingFeature, type ScoreRow } from './features.js';
import { clopperPearson, quantileSorted } from '../stats/index.js';
import { minHumanForFpr, thresholdAtFpr } from './metrics.js';
import { standardise } from './logistic.js';
import { averageGroup, choosePooling, movement, nestedPoolingOutOfFold } from './partial-pooling.js';

export const DEFAULT_MIN_PER_CLASS = 30;
export const POOLED = 'pooled';

export interface DomainCalibrateOptions extends Omit<CalibrateOptions, 'humanDomains' | 'syntheticDomains'> {
  field: string;
  humanDomains: (string | undefined)[];
  syntheticDomains: (string | undefined)[];
  minPerClass?: number;
  /** Deviation penalties to choose from (default partial-pooling.DEVIATION_GRID, ∞ included). */
  deviationGrid?: readonly number[];
}

const MISSING = '(none)';
/** JSON has no ∞: a deviation penalty of ∞ (no deviations, the pooled model) is written as null. */
const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function calibrateByDomainWithOof(
  human: ScoreRow[],
  synthetic: ScoreRow[],
  opts: DomainCalibrateOptions,
): Calibration {
  const minPerClass = opts.minPerClass ?? DEFAULT_MIN_PER_CLASS;
  if (!(Number.isInteger(minPerClass) && minPerClass >= 2))
    throw new UsageError(`\`minPerClass\` must be an integer ≥ 2 (got ${minPerClass})`);
  const hd = opts.humanDomains.map((d) => d ?? MISSING);
  const sd = opts.syntheticDomains.map((d) => d ?? MISSING);
  const pooled = calibrate(human, synthetic, { ...opts, humanDomains: hd, syntheticDomains: sd });
  const domains: DomainDetectors = {
    field: opts.field,
    min_per_class: minPerClass,
    detectors: {},
    pooled: {},
    warnings: [],
  };

  const rows = [...human, ...synthetic];
  const labels: (0 | 1)[] = [...human.map(() => 0 as const), ...synthetic.map(() => 1 as const)];
  const rowDomain = [...hd, ...sd];
  const grouped: string[] = [];
  for (const d of [...new Set(rowDomain)].sort()) {
    const nh = hd.filter((x) => x === d).length;
    const ns = sd.filter((x) => x === d).length;
    if (d === MISSING) domains.pooled[d] = 'rows without a domain value';
    else if (nh < minPerClass || ns < minPerClass)
      domains.pooled[d] = `${nh} human and ${ns} machine examples; a ranking of its own needs ${minPerClass} of each`;
    else grouped.push(d);
  }
  const out: Calibration = {
    file: { ...pooled.file, domains },
    outOfFold: { ...pooled.outOfFold, domains: [...opts.humanDomains, ...opts.syntheticDomains] },
  };
  if (grouped.length === 0) return out;

  const names = calibrationFeatures(rows, opts.features ?? pooled.file.calibration.features?.groups ?? []);
  const X = designMatrix(rows, names);
  const deviationColumns = names.flatMap((n, j) => (isEmbeddingFeature(n) ? [] : [j]));
  const group = Int32Array.from(rowDomain, (d) => grouped.indexOf(d));
  const folds = opts.folds ?? 5;
  const cv = {
    grid: opts.l2Grid,
    devGrid: opts.deviationGrid,
    folds,
    innerFolds: opts.innerFolds ?? 4,
    seed: opts.seed ?? 1,
    l2: opts.l2,
  };
  const choice = choosePooling(X, labels, group, grouped.length, deviationColumns, { ...cv, folds });
  const oof = nestedPoolingOutOfFold(X, labels, group, grouped.length, deviationColumns, cv);
  // Deployed: the average of the outer folds' models, on the scale of the out-of-fold scores thresholds are set on.
  const frame = standardise(X);
  const deployed = (g: number) => ({ ...averageGroup(oof.foldFits, g, frame), features: names });
  const shared = deployed(-1);

  const humanOof = grouped.map((_, g) =>
    labels.flatMap((l, i) => (l === 0 && group[i] === g ? [oof.oofScores[i]!] : [])),
  );
  // The common score scale: each domain's scores standardised by its own humans' median and interquartile range, so
  // that one threshold means one human quantile in every domain (up to the shape of their tails).
  const scale = humanOof.map(humanScale);
  const allGroupedHumans = humanOof.flatMap((h, g) => h.map((x) => (x - scale[g]!.location) / scale[g]!.spread));
  const common = thresholdAtFpr(allGroupedHumans, opts.targetFpr).threshold;
  const need = minHumanForFpr(opts.targetFpr);
  if (allGroupedHumans.length < need) {
    domains.warnings!.push(
      `the common threshold rests on ${allGroupedHumans.length} human examples, fewer than the ${need} that certify a ${opts.targetFpr * 100}% false-positive rate: read each domain's estimated FPR`,
    );
  }
  domains.pooling = {
    deviation_features: deviationColumns.map((j) => names[j]!),
    l2: choice.l2,
    l2_dev: finiteOrNull(choice.l2Dev),
    l2_dev_curve: choice.devCurve.map((c) => ({ l2_dev: finiteOrNull(c.l2Dev), log_loss: c.logLoss })),
    fold_choices: oof.foldChoices.map((c) => ({ l2: c.l2, l2_dev: finiteOrNull(c.l2Dev) })),
    common_threshold: common,
  };
  const thresholds = Float64Array.from(pooled.outOfFold.thresholds);
  const scores = Float64Array.from(pooled.outOfFold.scores);
  const fold = Int32Array.from(pooled.outOfFold.fold);
  grouped.forEach((d, g) => {
    const idx = labels.flatMap((_, i) => (group[i] === g ? [i] : []));
    const h = humanOof[g]!;
    const own = h.length >= need;
    const threshold = own
      ? thresholdAtFpr(h, opts.targetFpr).threshold
      : scale[g]!.location + scale[g]!.spread * common;
    for (const i of idx) {
      thresholds[i] = threshold;
      scores[i] = oof.oofScores[i]!;
      fold[i] = oof.fold[i]!;
    }
    const s = stats(
      idx.map((i) => oof.oofScores[i]!),
      idx.map((i) => labels[i]!),
      threshold,
      opts.seed ?? 1,
    );
    const fp = h.filter((x) => x > threshold).length;
    const estimate = { value: fp / h.length, ci: clopperPearson(fp, h.length), n_human: h.length };
    let warning: string | undefined;
    if (!own) {
      warning =
        `domain '${d}': ${h.length} human examples cannot certify a ${opts.targetFpr * 100}% false-positive rate (need ${need}); ` +
        `it uses the common threshold, at which its estimated FPR is ${pct(estimate.value)} (95% CI ${pct(estimate.ci.lo)}–${pct(estimate.ci.hi)})`;
      domains.warnings!.push(warning);
    }
    const domainRows = idx.map((i) => rows[i]!);
    const model = deployed(g);
    domains.detectors[d] = {
      detector: { kind: 'logistic', model, threshold },
      reference: signalReference(domainRows),
      ...(names.some(isEmbeddingFeature) ? withEmbeddingReference(domainRows) : {}),
      threshold_source: own ? 'domain' : 'common',
      scale: scale[g]!,
      fpr_estimate: estimate,
      moved: movement(shared, model, deviationColumns),
      ...(warning ? { warning } : {}),
      calibration: {
        n_human: h.length,
        n_synthetic: idx.length - h.length,
        folds,
        stats: s,
        candidates: {},
      },
    };
  });
  return { file: out.file, outOfFold: { ...out.outOfFold, scores, thresholds, fold } };
}

/** Location (median) and spread (interquartile range, 1 when it is 0) of a domain's out-of-fold human scores. */
export function humanScale(humanScores: number[]): { location: number; spread: number } {
  const sorted = [...humanScores].sort((a, b) => a - b);
  const iqr = quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25);
  return { location: quantileSorted(sorted, 0.5), spread: iqr > 0 ? iqr : 1 };
}

export function calibrateByDomain(
  human: ScoreRow[],
  synthetic: ScoreRow[],
  opts: DomainCalibrateOptions,
): DetectorFile {
  return calibrateByDomainWithOof(human, synthetic, opts).file;
}

/** The detector for a row of domain `domain` (undefined: the row has none), and its name for the output. */
export function routeDetector(
  file: DetectorFile,
  domain: string | undefined,
): { spec: DetectorSpec; name: string; seen: boolean } {
  const own = domain !== undefined ? file.domains?.detectors[domain] : undefined;
  if (own) return { spec: own.detector, name: `domain:${domain}`, seen: true };
  const seen = domain !== undefined && file.domains !== undefined && domain in file.domains.pooled;
  return { spec: file.detector, name: POOLED, seen };
}
