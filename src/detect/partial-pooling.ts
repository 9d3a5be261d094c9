/**
 * Partial pooling across domains: one logistic model whose weights are shared by every domain, plus per-domain
 * deviations of the intercept and of some features' weights, shrunk toward the shared model (logistic.ts, with
 * GroupDeviations). For a row of domain g:
 *
 *   η = (b + c_g) + Σ_j w_j z_j + Σ_{k∈K} δ_gk z_k,     penalty (l2/2)|w|² + (l2_dev/2) Σ_g (c_g² + |δ_g|²)
 *
 * A domain with few examples can barely pay for a deviation and scores almost as the shared model; a domain with
 * many gets its own ranking. l2_dev is chosen by cross-validation on a grid that includes ∞ (no deviations at all,
 * i.e. the pooled model), so pooling is never worse than the data say. Standardisation is the shared one, so a
 * domain's model folds into one ordinary LogisticModel (foldDomain). Rows of domains without a group (too few
 * examples, or none) score with the shared model.
 */
import { UsageError } from '../errors.js';
import {
  averageModels,
  chooseL2,
  chooseOnGrid,
  fitLogisticWithDeviations,
  L2_GRID,
  nestedCrossValidation,
  rowsOf,
  validate,
  type ChooseOptions,
  type LogisticModel,
} from './logistic.js';

/** Deviation penalties tried (∞: none, the pooled model). */
export const DEVIATION_GRID = [Infinity, 100, 30, 10, 3, 1] as const;

export interface PooledFit {
  shared: LogisticModel;
  /** Indexes (into the features) of the columns whose weights deviate per group. */
  deviationColumns: number[];
  l2Dev: number;
  /** Per group (by index): its intercept shift and standardised weight deviations. */
  groups: { intercept: number; weights: number[] }[];
}

export interface PoolingOptions {
  l2: number;
  l2Dev: number;
  deviationColumns: readonly number[];
  features?: string[];
  init?: PooledFit;
}

/** Fits shared weights and per-group deviations (`group[i]` −1: row i takes the shared model alone). */
export function fitPartialPooling(
  X: number[][],
  y: ArrayLike<0 | 1>,
  group: Int32Array,
  groups: number,
  opts: PoolingOptions,
): PooledFit {
  if (!(opts.l2Dev > 0)) throw new UsageError(`the deviation penalty must be > 0 (got ${opts.l2Dev})`);
  const dev = Number.isFinite(opts.l2Dev)
    ? { group, groups, columns: opts.deviationColumns, l2: opts.l2Dev }
    : undefined;
  const r = fitLogisticWithDeviations(X, y, { l2: opts.l2, features: opts.features, deviations: dev, init: opts.init });
  return { shared: r.model, deviationColumns: [...opts.deviationColumns], l2Dev: opts.l2Dev, groups: r.groups };
}

/** Group g's detector as one LogisticModel (the shared model with its deviations added); g −1: the shared model. */
export function foldGroup(fit: PooledFit, g: number): LogisticModel {
  const m = fit.shared;
  if (g < 0 || !fit.groups[g]) return m;
  const { intercept, weights } = fit.groups[g]!;
  const w = [...m.weights];
  fit.deviationColumns.forEach((j, k) => {
    w[j] = w[j]! + weights[k]!;
  });
  return { ...m, weights: w, intercept: m.intercept + intercept };
}

export function predictPooled(fit: PooledFit, x: ArrayLike<number>, g: number): number {
  const m = foldGroup(fit, g);
  let e = m.intercept;
  for (let j = 0; j < x.length; j++) e += (m.weights[j]! * ((x[j] as number) - m.mean[j]!)) / m.scale[j]!;
  return e;
}

/**
 * How far a group's detector moved from the shared one (both on one standardisation): the norm of its weight
 * deviations on `columns` relative to the norm of the shared weights there, and its intercept shift.
 */
export function movement(
  shared: LogisticModel,
  own: LogisticModel,
  columns: readonly number[],
): { relative_weight_change: number; intercept_shift: number } {
  const norm = (v: number[]) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  const base = norm(columns.map((j) => shared.weights[j]!));
  const moved = norm(columns.map((j) => own.weights[j]! - shared.weights[j]!));
  return {
    relative_weight_change: base > 0 ? moved / base : moved === 0 ? 0 : Infinity,
    intercept_shift: own.intercept - shared.intercept,
  };
}

export interface DeviationChoice {
  l2Dev: number;
  curve: { l2Dev: number; logLoss: number }[];
}

/** The deviation penalty with the lowest cross-validated log-loss (ties: the stronger one; ∞ first). */
export function chooseDeviation(
  X: number[][],
  y: ArrayLike<0 | 1>,
  group: Int32Array,
  groups: number,
  opts: {
    l2: number;
    deviationColumns: readonly number[];
    grid?: readonly number[];
    folds?: number;
    seed?: number;
    strata?: ArrayLike<number | string>;
  },
): DeviationChoice {
  const { best, curve } = chooseOnGrid(
    y,
    X.length,
    { grid: opts.grid ?? DEVIATION_GRID, folds: opts.folds ?? 5, seed: opts.seed ?? 1, strata: opts.strata ?? y },
    (train) => {
      const Xt = rowsOf(X, train);
      const yt = rowsOf(y, train);
      const gt = Int32Array.from(rowsOf(group, train));
      return (l2Dev, init: PooledFit | undefined) =>
        fitPartialPooling(Xt, yt, gt, groups, { l2: opts.l2, l2Dev, deviationColumns: opts.deviationColumns, init });
    },
    (fit, i) => predictPooled(fit, X[i] as number[], group[i]!),
  );
  return { l2Dev: best, curve: curve.map((c) => ({ l2Dev: c.value, logLoss: c.logLoss })) };
}

export interface PoolingChoice {
  l2: number;
  l2Curve: { l2: number; logLoss: number }[];
  l2Dev: number;
  devCurve: { l2Dev: number; logLoss: number }[];
}

export interface PoolingCvOptions {
  grid?: readonly number[];
  devGrid?: readonly number[];
  folds?: number;
  innerFolds?: number;
  seed?: number;
  /** Fold strata (default: label × group). */
  strata?: ArrayLike<number | string>;
  /** A fixed shared penalty (skips its choice). */
  l2?: number;
}

/** Both penalties, each by cross-validation: the shared one as for the pooled model, then the deviations'. */
export function choosePooling(
  X: number[][],
  y: ArrayLike<0 | 1>,
  group: Int32Array,
  groups: number,
  deviationColumns: readonly number[],
  opts: PoolingCvOptions = {},
): PoolingChoice {
  const strata = opts.strata ?? Array.from(y, (l, i) => `${l}:${group[i]}`);
  const base: ChooseOptions = { folds: opts.folds, seed: opts.seed, strata };
  const shared =
    opts.l2 === undefined ? chooseL2(X, y, { ...base, grid: opts.grid ?? L2_GRID }) : { l2: opts.l2, curve: [] };
  const dev = chooseDeviation(X, y, group, groups, {
    l2: shared.l2,
    deviationColumns,
    grid: opts.devGrid,
    folds: opts.folds,
    seed: opts.seed,
    strata,
  });
  return { l2: shared.l2, l2Curve: shared.curve, l2Dev: dev.l2Dev, devCurve: dev.curve };
}

export interface PoolingOutOfFold {
  oofScores: Float64Array;
  fold: Int32Array;
  /** The penalties each outer fold chose inside its own training rows. */
  foldChoices: { l2: number; l2Dev: number }[];
  /** The outer folds' fits, in fold order (calibration deploys their average: averageGroup). */
  foldFits: PooledFit[];
}

/** Out-of-fold scores of the partially pooled model, both penalties chosen inside each outer training fold. */
export function nestedPoolingOutOfFold(
  X: number[][],
  y: ArrayLike<0 | 1>,
  group: Int32Array,
  groups: number,
  deviationColumns: readonly number[],
  opts: PoolingCvOptions = {},
): PoolingOutOfFold {
  validate(X, y);
  const folds = opts.folds ?? 5;
  const strata = opts.strata ?? Array.from(y, (l, i) => `${l}:${group[i]}`);
  const r = nestedCrossValidation(
    X.length,
    { folds, innerFolds: opts.innerFolds ?? folds, seed: opts.seed ?? 1, strata },
    (train, inner) => {
      const Xt = rowsOf(X, train);
      const yt = rowsOf(y, train);
      const gt = Int32Array.from(rowsOf(group, train));
      const { l2, l2Dev } = choosePooling(Xt, yt, gt, groups, deviationColumns, { ...opts, ...inner });
      return { choice: { l2, l2Dev }, model: fitPartialPooling(Xt, yt, gt, groups, { l2, l2Dev, deviationColumns }) };
    },
    (fit, i) => predictPooled(fit, X[i] as number[], group[i]!),
  );
  return { oofScores: r.oofScores, fold: r.fold, foldChoices: r.choices, foldFits: r.models };
}

/**
 * Group g's detector as the average of the outer folds' (g −1: the shared model), on `frame`'s standardisation: it
 * scores new rows on the scale of the out-of-fold scores its threshold was set on (logistic.averageModels).
 */
export function averageGroup(
  fits: readonly PooledFit[],
  g: number,
  frame: Pick<LogisticModel, 'mean' | 'scale'>,
): LogisticModel {
  return averageModels(
    fits.map((f) => foldGroup(f, g)),
    frame,
  );
}
