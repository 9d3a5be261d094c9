/**
 * L2-regularised logistic regression on standardised features (label 1 = synthetic; the logit is the score).
 *
 *   z_ij  = (x_ij − mean_j) / scale_j,  mean_j = (1/n) Σ_i x_ij,  scale_j = population sd of column j
 *           (a constant column gets scale 1 and weight 0)
 *   η_i   = intercept + Σ_j w_j z_ij,  P(y_i = 1) = σ(η_i) = 1 / (1 + e^−η_i)
 *   fitted (intercept, w) minimise
 *           L = Σ_i [log(1 + e^η_i) − y_i η_i] + (l2 / 2) Σ_j w_j²       (intercept not penalised)
 *           i.e. scikit-learn's LogisticRegression with C = 1 / l2 on StandardScaler output.
 *   Newton (IRLS): (intercept, w) −= t H⁻¹ ∇L, H = Zᵀ diag(σ(1−σ)) Z + l2 I (intercept row unpenalised),
 *           solved by Cholesky; t from Armijo backtracking, so every step decreases L. Converged when
 *           the Newton step's largest component is ≤ tol. With l2 > 0, L is strictly convex and bounded
 *           below, so separable data gives finite weights.
 *   crossValidate: stratified k-fold (each class shuffled with a seeded mulberry32, then dealt round-robin
 *           to the folds); every document's score is the logit of the model fitted without its fold.
 */
import { UsageError } from '../errors.js';
import { mulberry32 } from '../random.js';

export interface LogisticModel {
  features?: string[];
  mean: number[];
  scale: number[];
  weights: number[];
  intercept: number;
  iterations: number;
  converged: boolean;
}

export interface LogisticOptions {
  /** L2 penalty on the standardised weights (default 1). */
  l2?: number;
  maxIter?: number;
  /** Convergence: the largest Newton step component (default 1e-10). */
  tol?: number;
  features?: string[];
}

export interface CrossValidateOptions {
  folds?: number;
  seed?: number;
  l2?: number;
}

const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

function validate(X: number[][], y: ArrayLike<0 | 1>): number {
  if (X.length !== y.length) throw new UsageError(`${X.length} rows but ${y.length} labels`);
  if (X.length === 0) throw new UsageError('logistic regression needs at least one row');
  const d = (X[0] as number[]).length;
  let pos = 0;
  for (let i = 0; i < X.length; i++) {
    const row = X[i] as number[];
    if (row.length !== d) throw new UsageError(`row ${i} has ${row.length} features, expected ${d}`);
    if (!row.every(Number.isFinite)) throw new UsageError(`row ${i} has a non-finite feature`);
    if (y[i] !== 0 && y[i] !== 1) throw new UsageError(`label ${i} is ${String(y[i])}, not 0 or 1`);
    pos += y[i] as number;
  }
  if (pos === 0 || pos === X.length) throw new UsageError('logistic regression needs both classes (0 and 1)');
  return d;
}

/** Column means, population sds (1 for constant columns) and which columns vary. */
function standardisation(X: number[][], d: number): { mean: number[]; scale: number[]; active: boolean[] } {
  const n = X.length;
  const mean = Array.from({ length: d }, (_, j) => X.reduce((a, r) => a + (r[j] as number), 0) / n);
  const active = Array.from({ length: d }, (_, j) => X.some((r) => r[j] !== (X[0] as number[])[j]));
  const scale = mean.map((m, j) => (active[j] ? Math.sqrt(X.reduce((a, r) => a + ((r[j] as number) - m) ** 2, 0) / n) : 1));
  return { mean, scale, active };
}

/** Solves A x = b for symmetric positive definite A (m×m, row-major); null when A is not numerically PD. */
export function choleskySolve(A: Float64Array, b: Float64Array, m: number): Float64Array | null {
  const L = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * m + j] as number;
      for (let k = 0; k < j; k++) s -= (L[i * m + k] as number) * (L[j * m + k] as number);
      if (i === j) {
        if (!(s > 0)) return null;
        L[i * m + i] = Math.sqrt(s);
      } else L[i * m + j] = s / (L[j * m + j] as number);
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < i; k++) x[i] = (x[i] as number) - (L[i * m + k] as number) * (x[k] as number);
    x[i] = (x[i] as number) / (L[i * m + i] as number);
  }
  for (let i = m - 1; i >= 0; i--) {
    for (let k = i + 1; k < m; k++) x[i] = (x[i] as number) - (L[k * m + i] as number) * (x[k] as number);
    x[i] = (x[i] as number) / (L[i * m + i] as number);
  }
  return x;
}

export function fitLogistic(X: number[][], y: ArrayLike<0 | 1>, opts: LogisticOptions = {}): LogisticModel {
  const l2 = opts.l2 ?? 1;
  const maxIter = opts.maxIter ?? 100;
  const tol = opts.tol ?? 1e-10;
  if (!(l2 >= 0)) throw new UsageError(`l2 must be >= 0, got ${l2}`);
  const d = validate(X, y);
  const n = X.length;
  const { mean, scale, active } = standardisation(X, d);
  const m = d + 1; // parameter 0 is the intercept
  const Z = new Float64Array(n * m);
  X.forEach((row, i) => {
    Z[i * m] = 1;
    for (let j = 0; j < d; j++) if (active[j]) Z[i * m + j + 1] = ((row[j] as number) - (mean[j] as number)) / (scale[j] as number);
  });
  const eta = (beta: Float64Array, i: number): number => {
    let e = 0;
    for (let j = 0; j < m; j++) e += (Z[i * m + j] as number) * (beta[j] as number);
    return e;
  };
  const loss = (beta: Float64Array): number => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      const e = eta(beta, i);
      f += softplus(e) - (y[i] as number) * e;
    }
    for (let j = 1; j < m; j++) f += (l2 / 2) * (beta[j] as number) ** 2;
    return f;
  };

  let ybar = 0;
  for (let i = 0; i < n; i++) ybar += (y[i] as number) / n;
  let beta = new Float64Array(m);
  beta[0] = Math.log(ybar / (1 - ybar));
  let f = loss(beta);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIter && !converged) {
    iterations++;
    const g = new Float64Array(m);
    const H = new Float64Array(m * m);
    for (let i = 0; i < n; i++) {
      const p = sigmoid(eta(beta, i));
      const r = p - (y[i] as number);
      const w = p * (1 - p);
      for (let a = 0; a < m; a++) {
        const za = Z[i * m + a] as number;
        if (za === 0) continue;
        g[a] = (g[a] as number) + r * za;
        for (let b = 0; b <= a; b++) H[a * m + b] = (H[a * m + b] as number) + w * za * (Z[i * m + b] as number);
      }
    }
    for (let a = 1; a < m; a++) {
      g[a] = (g[a] as number) + l2 * (beta[a] as number);
      H[a * m + a] = (H[a * m + a] as number) + l2;
      if (!active[a - 1]) H[a * m + a] = 1; // constant column: zero gradient and row, weight stays 0
    }
    for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) H[a * m + b] = H[b * m + a] as number;
    const step = choleskySolve(H, g, m);
    if (step === null) break;
    const size = step.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    const descent = step.reduce((a, v, j) => a + v * (g[j] as number), 0);
    // Armijo backtracking, with float-rounding slack on L so the final tiny steps are accepted.
    const slack = 1e-12 * (1 + Math.abs(f));
    let t = 1;
    let next = beta.map((v, j) => v - (step[j] as number));
    let fNext = loss(next);
    while (fNext > f - 1e-4 * t * descent + slack && t > 1e-12) {
      t /= 2;
      next = beta.map((v, j) => v - t * (step[j] as number));
      fNext = loss(next);
    }
    if (!(fNext <= f + slack)) break;
    beta = next;
    f = fNext;
    converged = size <= tol;
  }
  const model: LogisticModel = {
    mean,
    scale,
    weights: Array.from(beta.subarray(1)),
    intercept: beta[0] as number,
    iterations,
    converged,
  };
  if (opts.features) model.features = opts.features;
  return model;
}

export function predictLogit(model: LogisticModel, x: ArrayLike<number>): number {
  if (x.length !== model.weights.length) throw new UsageError(`${x.length} features, model expects ${model.weights.length}`);
  let e = model.intercept;
  for (let j = 0; j < x.length; j++) {
    const w = model.weights[j] as number;
    if (w !== 0) e += (w * ((x[j] as number) - (model.mean[j] as number))) / (model.scale[j] as number);
  }
  return e;
}

export function predictProba(model: LogisticModel, x: ArrayLike<number>): number {
  return sigmoid(predictLogit(model, x));
}

/** Stratified fold of each row: each class shuffled (seeded) and dealt round-robin. */
export function stratifiedFolds(y: ArrayLike<0 | 1>, folds: number, seed: number): Int32Array {
  const rng = mulberry32(seed);
  const fold = new Int32Array(y.length);
  let next = 0;
  for (const cls of [0, 1]) {
    const idx: number[] = [];
    for (let i = 0; i < y.length; i++) if (y[i] === cls) idx.push(i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
    }
    for (const i of idx) fold[i] = next++ % folds;
  }
  return fold;
}

export function crossValidate(X: number[][], y: ArrayLike<0 | 1>, opts: CrossValidateOptions = {}): { oofScores: Float64Array; fold: Int32Array } {
  const folds = opts.folds ?? 5;
  validate(X, y);
  if (!Number.isInteger(folds) || folds < 2) throw new UsageError(`folds must be an integer >= 2, got ${folds}`);
  let pos = 0;
  for (let i = 0; i < y.length; i++) pos += y[i] as number;
  if (Math.min(pos, y.length - pos) < 2) throw new UsageError('cross-validation needs at least 2 rows of each class');
  const fold = stratifiedFolds(y, folds, opts.seed ?? 1);
  const oofScores = new Float64Array(X.length);
  for (let f = 0; f < folds; f++) {
    const train = X.flatMap((_, i) => (fold[i] === f ? [] : [i]));
    if (train.length === X.length) continue; // fewer rows than folds: empty fold
    const model = fitLogistic(
      train.map((i) => X[i] as number[]),
      train.map((i) => y[i] as 0 | 1),
      opts.l2 === undefined ? {} : { l2: opts.l2 },
    );
    for (let i = 0; i < X.length; i++) if (fold[i] === f) oofScores[i] = predictLogit(model, X[i] as number[]);
  }
  return { oofScores, fold };
}
