/**
 * Penalised logistic regression on standardised features (label 1 = synthetic; the logit is the score), with
 * optional per-group deviations (partial pooling: partial-pooling.ts).
 *
 *   z_ij  = (x_ij − mean_j) / scale_j,  mean_j = (1/n) Σ_i x_ij,  scale_j = population sd of column j
 *           (a constant column gets scale 1 and weight 0)
 *   η_i   = b + Σ_j w_j z_ij  [+ c_g + Σ_{k∈K} δ_gk z_ik  for a row of group g, K the deviating columns]
 *   fitted parameters minimise
 *           L = Σ_i [log(1 + e^η_i) − y_i η_i] + (l2 / 2) Σ_j w_j² + (l2_dev / 2) Σ_g (c_g² + Σ_k δ_gk²)
 *           (b not penalised); without groups this is scikit-learn's LogisticRegression with C = 1 / l2 on
 *           StandardScaler output.
 *   Newton (IRLS): θ −= t H⁻¹ ∇L with H = Xᵀ diag(σ(1−σ)) X + diag(penalty), solved by Cholesky; t from Armijo
 *           backtracking, so every step decreases L. Converged when the step's largest component is ≤ tol.
 *           With every penalty > 0, L is strictly convex: separable data still gives finite weights.
 *   Folds are stratified (each stratum shuffled with a seeded mulberry32, then dealt round-robin); every
 *   out-of-fold score comes from a model fitted without the row's fold, standardisation included.
 *   chooseL2 picks the penalty with the lowest cross-validated log-loss on a grid, fitting each fold along the grid
 *   from the strongest penalty down with warm starts; nestedOutOfFold repeats that choice inside every outer
 *   training fold, so the scores it returns never saw their own rows, not even through the penalty. Both loops are
 *   generic over the model (chooseOnGrid, nestedCrossValidation), so partial-pooling.ts runs the very same ones.
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
  /** The penalty it was fitted with. */
  l2?: number;
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

/** The default penalty grid: from a strong prior towards zero weights to a weak one. */
export const L2_GRID = [300, 100, 30, 10, 3, 1, 0.3] as const;

const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

export function validate(X: number[][], y: ArrayLike<0 | 1>): number {
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

export interface Standardised {
  mean: number[];
  scale: number[];
  active: boolean[];
  /** n × d row-major standardised values (0 in inactive columns). */
  Z: Float64Array;
  n: number;
  d: number;
}

/** Column means, population sds (1 for constant columns), which columns vary, and the standardised rows. */
export function standardise(X: number[][]): Standardised {
  const n = X.length;
  const d = (X[0] as number[]).length;
  const mean = Array.from({ length: d }, (_, j) => X.reduce((a, r) => a + (r[j] as number), 0) / n);
  const active = Array.from({ length: d }, (_, j) => X.some((r) => r[j] !== (X[0] as number[])[j]));
  const scale = mean.map((m, j) =>
    active[j] ? Math.sqrt(X.reduce((a, r) => a + ((r[j] as number) - m) ** 2, 0) / n) : 1,
  );
  const Z = new Float64Array(n * d);
  X.forEach((row, i) => {
    for (let j = 0; j < d; j++)
      if (active[j]) Z[i * d + j] = ((row[j] as number) - (mean[j] as number)) / (scale[j] as number);
  });
  return { mean, scale, active, Z, n, d };
}

/** Solves A x = b for symmetric positive definite A (m×m, row-major); null when A is not numerically PD. */
export function choleskySolve(A: Float64Array, b: Float64Array, m: number): Float64Array | null {
  const L = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * m + j] as number;
      const ri = i * m;
      const rj = j * m;
      for (let k = 0; k < j; k++) s -= (L[ri + k] as number) * (L[rj + k] as number);
      if (i === j) {
        if (!(s > 0)) return null;
        L[ri + i] = Math.sqrt(s);
      } else L[ri + j] = s / (L[rj + j] as number);
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

/** Per-group deviations of some standardised columns and of the intercept, all penalised by `l2`. */
export interface GroupDeviations {
  /** Group of each row; −1 for a row that takes the shared model alone. */
  group: Int32Array;
  groups: number;
  /** Standardised columns whose weights deviate per group. */
  columns: readonly number[];
  l2: number;
}

/**
 * Parameters: θ = [b, w_0..w_{d−1}] then, per group g, [c_g, δ_g0..δ_g(K−1)].
 * `Z` is standardised (n × d); `active[j]` false pins w_j (and its deviations) at 0.
 */
export interface NewtonProblem {
  Z: Float64Array;
  n: number;
  d: number;
  y: ArrayLike<0 | 1>;
  active: readonly boolean[];
  l2: number;
  deviations?: GroupDeviations;
}

export interface NewtonResult {
  theta: Float64Array;
  iterations: number;
  converged: boolean;
}

export function parameterCount(p: NewtonProblem): number {
  const dev = p.deviations;
  return 1 + p.d + (dev ? dev.groups * (1 + dev.columns.length) : 0);
}

/** η_i for every row. */
export function linearPredictor(p: NewtonProblem, theta: Float64Array): Float64Array {
  const { Z, n, d } = p;
  const dev = p.deviations;
  const K = dev?.columns.length ?? 0;
  const eta = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let e = theta[0] as number;
    const r = i * d;
    for (let j = 0; j < d; j++) e += (Z[r + j] as number) * (theta[1 + j] as number);
    const g = dev ? (dev.group[i] as number) : -1;
    if (g >= 0) {
      const o = 1 + d + g * (1 + K);
      e += theta[o] as number;
      for (let k = 0; k < K; k++) e += (Z[r + dev!.columns[k]!] as number) * (theta[o + 1 + k] as number);
    }
    eta[i] = e;
  }
  return eta;
}

function penaltyVector(p: NewtonProblem): Float64Array {
  const m = parameterCount(p);
  const pen = new Float64Array(m);
  for (let j = 0; j < p.d; j++) pen[1 + j] = p.l2;
  if (p.deviations) pen.fill(p.deviations.l2, 1 + p.d);
  return pen;
}

/** Parameters pinned at zero: weights (and deviations) of constant columns. */
function pinned(p: NewtonProblem): Uint8Array {
  const m = parameterCount(p);
  const pin = new Uint8Array(m);
  for (let j = 0; j < p.d; j++) if (!p.active[j]) pin[1 + j] = 1;
  const dev = p.deviations;
  if (dev) {
    const K = dev.columns.length;
    for (let g = 0; g < dev.groups; g++) {
      for (let k = 0; k < K; k++) if (!p.active[dev.columns[k]!]) pin[1 + p.d + g * (1 + K) + 1 + k] = 1;
    }
  }
  return pin;
}

function objective(p: NewtonProblem, theta: Float64Array, pen: Float64Array): number {
  const eta = linearPredictor(p, theta);
  let f = 0;
  for (let i = 0; i < p.n; i++) f += softplus(eta[i]!) - (p.y[i] as number) * eta[i]!;
  for (let j = 0; j < theta.length; j++) f += (pen[j]! / 2) * theta[j]! ** 2;
  return f;
}

/** Lower triangle of AᵀB for column-major A (n × p) and B (n × q), written into H (stride m) at (row0, col0). */
function crossProducts(
  A: Float64Array,
  p: number,
  B: Float64Array,
  q: number,
  n: number,
  H: Float64Array,
  m: number,
  row0: number,
  col0: number,
  lowerOnly: boolean,
): void {
  for (let a = 0; a < p; a++) {
    const oa = a * n;
    const end = lowerOnly ? a + 1 : q;
    let b = 0;
    // Four columns of B per pass over column a of A: a quarter of the loads.
    for (; b + 4 <= end; b += 4) {
      const o0 = b * n;
      const o1 = o0 + n;
      const o2 = o1 + n;
      const o3 = o2 + n;
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      for (let i = 0; i < n; i++) {
        const x = A[oa + i]!;
        s0 += x * B[o0 + i]!;
        s1 += x * B[o1 + i]!;
        s2 += x * B[o2 + i]!;
        s3 += x * B[o3 + i]!;
      }
      const h = (row0 + a) * m + col0 + b;
      H[h] = s0;
      H[h + 1] = s1;
      H[h + 2] = s2;
      H[h + 3] = s3;
    }
    for (; b < end; b++) {
      const ob = b * n;
      let s = 0;
      for (let i = 0; i < n; i++) s += A[oa + i]! * B[ob + i]!;
      H[(row0 + a) * m + col0 + b] = s;
    }
  }
}

/**
 * Gradient and Hessian of L at θ. The Hessian's data part is (√w X)ᵀ(√w X), formed from column-major copies of the
 * weighted rows: the shared columns over every row, and per group its deviation columns over its own rows.
 */
function gradientAndHessian(
  p: NewtonProblem,
  theta: Float64Array,
  pen: Float64Array,
): { g: Float64Array; H: Float64Array } {
  const { Z, n, d, y } = p;
  const dev = p.deviations;
  const K = dev?.columns.length ?? 0;
  const m = theta.length;
  const S = 1 + d;
  const g = new Float64Array(m);
  const H = new Float64Array(m * m);
  const eta = linearPredictor(p, theta);
  const resid = new Float64Array(n);
  const root = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const pr = sigmoid(eta[i]!);
    resid[i] = pr - (y[i] as number);
    root[i] = Math.sqrt(pr * (1 - pr));
  }
  // Shared columns: [1, z_i0, …, z_i(d−1)], column-major, scaled by √w_i.
  const As = new Float64Array(n * S);
  for (let i = 0; i < n; i++) {
    As[i] = root[i]!;
    g[0] = g[0]! + resid[i]!;
  }
  for (let j = 0; j < d; j++) {
    const o = (1 + j) * n;
    let gj = 0;
    for (let i = 0; i < n; i++) {
      const z = Z[i * d + j]!;
      As[o + i] = root[i]! * z;
      gj += resid[i]! * z;
    }
    g[1 + j] = gj;
  }
  crossProducts(As, S, As, S, n, H, m, 0, 0, true);
  if (dev) {
    for (let grp = 0; grp < dev.groups; grp++) {
      const rows: number[] = [];
      for (let i = 0; i < n; i++) if (dev.group[i] === grp) rows.push(i);
      const ng = rows.length;
      if (ng === 0) continue;
      const o = S + grp * (1 + K);
      const Ag = new Float64Array(ng * (1 + K));
      const Asg = new Float64Array(ng * S);
      rows.forEach((i, r) => {
        Ag[r] = root[i]!;
        g[o] = g[o]! + resid[i]!;
        for (let k = 0; k < K; k++) {
          const z = Z[i * d + dev.columns[k]!]!;
          Ag[(1 + k) * ng + r] = root[i]! * z;
          g[o + 1 + k] = g[o + 1 + k]! + resid[i]! * z;
        }
        for (let b = 0; b < S; b++) Asg[b * ng + r] = As[b * n + i]!;
      });
      crossProducts(Ag, 1 + K, Asg, S, ng, H, m, o, 0, false); // group × shared
      crossProducts(Ag, 1 + K, Ag, 1 + K, ng, H, m, o, o, true); // group × group
    }
  }
  for (let a = 0; a < m; a++) {
    g[a] = g[a]! + pen[a]! * theta[a]!;
    H[a * m + a] = H[a * m + a]! + pen[a]!;
  }
  for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) H[a * m + b] = H[b * m + a]!;
  return { g, H };
}

/** Minimises L by damped Newton from `init` (default: b = the log-odds of the labels, everything else 0). */
export function newtonFit(
  p: NewtonProblem,
  opts: { init?: Float64Array; maxIter?: number; tol?: number } = {},
): NewtonResult {
  const maxIter = opts.maxIter ?? 100;
  const tol = opts.tol ?? 1e-10;
  const m = parameterCount(p);
  const pen = penaltyVector(p);
  const pin = pinned(p);
  let theta = new Float64Array(m);
  if (opts.init) theta.set(opts.init);
  else {
    let ybar = 0;
    for (let i = 0; i < p.n; i++) ybar += (p.y[i] as number) / p.n;
    theta[0] = Math.log(ybar / (1 - ybar));
  }
  for (let j = 0; j < m; j++) if (pin[j]) theta[j] = 0;
  let f = objective(p, theta, pen);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIter && !converged) {
    iterations++;
    const { g, H } = gradientAndHessian(p, theta, pen);
    for (let a = 0; a < m; a++) {
      if (!pin[a]) continue;
      // A pinned parameter: zero gradient, an identity row, so its step is 0.
      g[a] = 0;
      for (let b = 0; b < m; b++) H[a * m + b] = H[b * m + a] = 0;
      H[a * m + a] = 1;
    }
    const step = choleskySolve(H, g, m);
    if (step === null) break;
    const size = step.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    const descent = step.reduce((a, v, j) => a + v * g[j]!, 0);
    // Armijo backtracking, with float-rounding slack on L so the final tiny steps are accepted.
    const slack = 1e-12 * (1 + Math.abs(f));
    let t = 1;
    let next = theta.map((v, j) => v - step[j]!);
    let fNext = objective(p, next, pen);
    while (fNext > f - 1e-4 * t * descent + slack && t > 1e-12) {
      t /= 2;
      next = theta.map((v, j) => v - t * step[j]!);
      fNext = objective(p, next, pen);
    }
    if (!(fNext <= f + slack)) break;
    theta = next;
    f = fNext;
    converged = size <= tol;
  }
  return { theta, iterations, converged };
}

export interface FitOptions extends LogisticOptions {
  /** Warm start: a model fitted on the same features (its weights are mapped to this standardisation). */
  init?: LogisticModel;
}

/** The model's parameters in another standardisation's coordinates (for warm starts across folds). */
function restandardised(model: LogisticModel, s: Standardised): Float64Array {
  const theta = new Float64Array(1 + s.d);
  let b = model.intercept;
  for (let j = 0; j < s.d; j++) {
    // w_j (x − μ)/σ = w_j (s.σ/σ) (x − s.μ)/s.σ + w_j (s.μ − μ)/σ
    const w = model.weights[j]! / model.scale[j]!;
    theta[1 + j] = w * s.scale[j]!;
    b += w * (s.mean[j]! - model.mean[j]!);
  }
  theta[0] = b;
  return theta;
}

export function fitLogistic(X: number[][], y: ArrayLike<0 | 1>, opts: FitOptions = {}): LogisticModel {
  const l2 = opts.l2 ?? 1;
  if (!(l2 >= 0)) throw new UsageError(`l2 must be >= 0, got ${l2}`);
  validate(X, y);
  const s = standardise(X);
  const problem: NewtonProblem = { Z: s.Z, n: s.n, d: s.d, y, active: s.active, l2 };
  const init = opts.init && opts.init.weights.length === s.d ? restandardised(opts.init, s) : undefined;
  const r = newtonFit(problem, { init, maxIter: opts.maxIter, tol: opts.tol });
  const model: LogisticModel = {
    mean: s.mean,
    scale: s.scale,
    weights: Array.from(r.theta.subarray(1)),
    intercept: r.theta[0]!,
    iterations: r.iterations,
    converged: r.converged,
    l2,
  };
  if (opts.features) model.features = opts.features;
  return model;
}

export interface GroupDeviationFit {
  intercept: number;
  /** Standardised weight deviations, one per deviating column. */
  weights: number[];
}

/**
 * fitLogistic with per-group deviations (partial-pooling.ts). `deviations.group/groups/columns/l2` as in
 * GroupDeviations; undefined fits the shared model alone. `init` warm-starts from an earlier fit on other rows.
 */
export function fitLogisticWithDeviations(
  X: number[][],
  y: ArrayLike<0 | 1>,
  opts: LogisticOptions & {
    deviations?: GroupDeviations;
    init?: { shared: LogisticModel; groups: GroupDeviationFit[] };
  },
): { model: LogisticModel; groups: GroupDeviationFit[] } {
  const l2 = opts.l2 ?? 1;
  validate(X, y);
  const s = standardise(X);
  const dev = opts.deviations;
  if (dev && dev.group.length !== s.n) throw new UsageError(`${dev.group.length} group labels for ${s.n} rows`);
  const problem: NewtonProblem = {
    Z: s.Z,
    n: s.n,
    d: s.d,
    y,
    active: s.active,
    l2,
    ...(dev ? { deviations: dev } : {}),
  };
  let init: Float64Array | undefined;
  if (opts.init && opts.init.shared.weights.length === s.d) {
    init = new Float64Array(parameterCount(problem));
    init.set(restandardised(opts.init.shared, s));
    if (dev) {
      const K = dev.columns.length;
      opts.init.groups.forEach((gfit, g) => {
        if (g >= dev.groups || gfit.weights.length !== K) return;
        const o = 1 + s.d + g * (1 + K);
        let c = gfit.intercept;
        dev.columns.forEach((j, k) => {
          const raw = gfit.weights[k]! / opts.init!.shared.scale[j]!;
          init![o + 1 + k] = raw * s.scale[j]!;
          c += raw * (s.mean[j]! - opts.init!.shared.mean[j]!);
        });
        init![o] = c;
      });
    }
  }
  const r = newtonFit(problem, { init, maxIter: opts.maxIter, tol: opts.tol });
  const model: LogisticModel = {
    mean: s.mean,
    scale: s.scale,
    weights: Array.from(r.theta.subarray(1, 1 + s.d)),
    intercept: r.theta[0]!,
    iterations: r.iterations,
    converged: r.converged,
    l2,
  };
  if (opts.features) model.features = opts.features;
  const groups: GroupDeviationFit[] = [];
  if (dev) {
    const K = dev.columns.length;
    for (let g = 0; g < dev.groups; g++) {
      const o = 1 + s.d + g * (1 + K);
      groups.push({ intercept: r.theta[o]!, weights: Array.from(r.theta.subarray(o + 1, o + 1 + K)) });
    }
  }
  return { model, groups };
}

export function predictLogit(model: LogisticModel, x: ArrayLike<number>): number {
  if (x.length !== model.weights.length)
    throw new UsageError(`${x.length} features, model expects ${model.weights.length}`);
  let e = model.intercept;
  for (let j = 0; j < x.length; j++) {
    const w = model.weights[j] as number;
    if (w !== 0) e += (w * ((x[j] as number) - (model.mean[j] as number))) / (model.scale[j] as number);
  }
  return e;
}

/**
 * The average of linear models, as one model on `like`'s standardisation: its logit is the mean of theirs for every x
 * (each model's logit is affine in the raw features, so their mean is too). Used to deploy the outer-fold models of a
 * nested cross-validation: the threshold is set on their out-of-fold scores, and their average scores new rows on
 * that scale, where a model refitted on every row (weaker shrinkage per row) would spread them wider.
 */
export function averageModels(
  models: readonly LogisticModel[],
  like: Pick<LogisticModel, 'mean' | 'scale'> = models[0]!,
): LogisticModel {
  if (models.length === 0) throw new UsageError('averageModels needs at least one model');
  const d = models[0]!.weights.length;
  if (like.mean.length !== d || like.scale.length !== d || models.some((m) => m.weights.length !== d))
    throw new UsageError('averageModels: models of different widths');
  const F = models.length;
  const weights = new Array<number>(d).fill(0);
  let intercept = 0;
  for (const m of models) {
    intercept += m.intercept / F;
    for (let j = 0; j < d; j++) {
      const raw = m.weights[j]! / m.scale[j]! / F; // this model's share of the raw-feature coefficient
      weights[j] = weights[j]! + raw * like.scale[j]!;
      intercept += raw * (like.mean[j]! - m.mean[j]!);
    }
  }
  const first = models[0]!;
  return {
    ...(first.features ? { features: first.features } : {}),
    mean: [...like.mean],
    scale: [...like.scale],
    weights,
    intercept,
    iterations: Math.max(...models.map((m) => m.iterations)),
    converged: models.every((m) => m.converged),
    ...(first.l2 !== undefined ? { l2: first.l2 } : {}),
  };
}

export function predictProba(model: LogisticModel, x: ArrayLike<number>): number {
  return sigmoid(predictLogit(model, x));
}

/** Fold of each row, stratified by `strata` (e.g. the label, or label × domain): each stratum shuffled and dealt. */
export function stratifiedFoldsBy(strata: ArrayLike<number | string>, folds: number, seed: number): Int32Array {
  const rng = mulberry32(seed);
  const fold = new Int32Array(strata.length);
  const groups = new Map<number | string, number[]>();
  for (let i = 0; i < strata.length; i++) {
    const k = strata[i]!;
    const list = groups.get(k);
    if (list) list.push(i);
    else groups.set(k, [i]);
  }
  let next = 0;
  for (const key of [...groups.keys()].sort((a, b) => String(a).localeCompare(String(b)))) {
    const idx = groups.get(key)!;
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
    }
    for (const i of idx) fold[i] = next++ % folds;
  }
  return fold;
}

/** Stratified fold of each row by label (class 0 first, then class 1). */
export function stratifiedFolds(y: ArrayLike<0 | 1>, folds: number, seed: number): Int32Array {
  return stratifiedFoldsBy(y, folds, seed);
}

function checkFolds(y: ArrayLike<0 | 1>, folds: number): void {
  if (!Number.isInteger(folds) || folds < 2) throw new UsageError(`folds must be an integer >= 2, got ${folds}`);
  let pos = 0;
  for (let i = 0; i < y.length; i++) pos += y[i] as number;
  if (Math.min(pos, y.length - pos) < 2) throw new UsageError('cross-validation needs at least 2 rows of each class');
}

/** The values at rows `idx`, in that order. */
export const rowsOf = <T>(values: ArrayLike<T>, idx: number[]): T[] => idx.map((i) => values[i] as T);

/** Rows 0..n−1 outside fold f (its training rows) and in it (its test rows), each in row order. */
function foldSplit(n: number, fold: Int32Array, f: number): { train: number[]; test: number[] } {
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < n; i++) (fold[i] === f ? test : train).push(i);
  return { train, test };
}

/**
 * Out-of-fold logits, for any kind of model: per fold (skipping an empty one), `fit` makes a model from the other
 * folds' rows and `logit` scores the fold's rows with it. Returns the models in fold order.
 */
export function outOfFold<M>(
  n: number,
  fold: Int32Array,
  folds: number,
  fit: (train: number[], f: number) => M,
  logit: (model: M, i: number) => number,
): { oofScores: Float64Array; models: M[] } {
  const oofScores = new Float64Array(n);
  const models: M[] = [];
  for (let f = 0; f < folds; f++) {
    const { train, test } = foldSplit(n, fold, f);
    if (test.length === 0) continue; // fewer rows than folds: empty fold
    const model = fit(train, f);
    models.push(model);
    for (const i of test) oofScores[i] = logit(model, i);
  }
  return { oofScores, models };
}

/** How an outer training fold runs its own cross-validation: inner folds, their seed and the training rows' strata. */
export interface InnerFolds {
  folds: number;
  seed: number;
  strata: (number | string)[];
}

/**
 * Nested out-of-fold logits: outer folds stratified by `strata`; each outer training fold chooses (by its own
 * cross-validation, with `innerFolds` folds and seed `seed + 1 + f`) and fits a model in `fitFold`, which scores
 * the held-out fold. The choices and models come back in fold order.
 */
export function nestedCrossValidation<C, M>(
  n: number,
  opts: { folds: number; innerFolds: number; seed: number; strata: ArrayLike<number | string> },
  fitFold: (train: number[], inner: InnerFolds) => { choice: C; model: M },
  logit: (model: M, i: number) => number,
): { oofScores: Float64Array; fold: Int32Array; choices: C[]; models: M[] } {
  const fold = stratifiedFoldsBy(opts.strata, opts.folds, opts.seed);
  const choices: C[] = [];
  const { oofScores, models } = outOfFold(
    n,
    fold,
    opts.folds,
    (train, f) => {
      const inner = { folds: opts.innerFolds, seed: opts.seed + 1 + f, strata: rowsOf(opts.strata, train) };
      const { choice, model } = fitFold(train, inner);
      choices.push(choice);
      return model;
    },
    logit,
  );
  return { oofScores, fold, choices, models };
}

export function crossValidate(
  X: number[][],
  y: ArrayLike<0 | 1>,
  opts: CrossValidateOptions = {},
): { oofScores: Float64Array; fold: Int32Array; foldModels: LogisticModel[] } {
  const folds = opts.folds ?? 5;
  validate(X, y);
  checkFolds(y, folds);
  const fold = stratifiedFolds(y, folds, opts.seed ?? 1);
  const { oofScores, models } = outOfFold(
    X.length,
    fold,
    folds,
    (train) => fitLogistic(rowsOf(X, train), rowsOf(y, train), opts.l2 === undefined ? {} : { l2: opts.l2 }),
    (model, i) => predictLogit(model, X[i] as number[]),
  );
  return { oofScores, fold, foldModels: models };
}

/** Mean log-loss of logits `eta` against labels `y`. */
export function logLoss(eta: ArrayLike<number>, y: ArrayLike<0 | 1>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += softplus(eta[i]!) - (y[i] as number) * eta[i]!;
  return s / y.length;
}

/**
 * Cross-validated mean log-loss at each value of a penalty grid, for any kind of model, and the best value (lowest
 * loss; ties within 1e-12 go to the stronger, earlier value). Folds are stratified by `strata`; each fold walks
 * `grid` from the largest value down, `fitter(train)` fitting its training rows at each value warm-started from the
 * previous fit, and `logit` scoring its test rows. A fold's loss enters as its mean log-loss × its row count.
 */
export function chooseOnGrid<M>(
  y: ArrayLike<0 | 1>,
  n: number,
  opts: { grid: readonly number[]; folds: number; seed: number; strata: ArrayLike<number | string> },
  fitter: (train: number[]) => (value: number, prev: M | undefined) => M,
  logit: (model: M, i: number) => number,
): { best: number; curve: { value: number; logLoss: number }[] } {
  const grid = [...opts.grid].sort((a, b) => b - a);
  const fold = stratifiedFoldsBy(opts.strata, opts.folds, opts.seed);
  const loss = new Float64Array(grid.length);
  for (let f = 0; f < opts.folds; f++) {
    const { train, test } = foldSplit(n, fold, f);
    if (test.length === 0) continue;
    const fit = fitter(train);
    let prev: M | undefined;
    grid.forEach((value, k) => {
      const model = fit(value, prev);
      prev = model;
      const eta = test.map((i) => logit(model, i));
      loss[k] = loss[k]! + logLoss(eta, rowsOf(y, test)) * test.length;
    });
  }
  const curve = grid.map((value, k) => ({ value, logLoss: loss[k]! / n }));
  let best = curve[0]!;
  for (const c of curve) if (c.logLoss < best.logLoss - 1e-12) best = c;
  return { best: best.value, curve };
}

export interface PenaltyChoice {
  l2: number;
  /** Cross-validated mean log-loss at each grid value. */
  curve: { l2: number; logLoss: number }[];
}

export interface ChooseOptions {
  grid?: readonly number[];
  folds?: number;
  seed?: number;
  /** Fold strata (default: the labels). */
  strata?: ArrayLike<number | string>;
}

/**
 * The grid penalty with the lowest cross-validated log-loss (ties: the stronger penalty). Each fold walks the grid
 * from the strongest penalty down, warm-starting every fit from the previous one.
 */
export function chooseL2(X: number[][], y: ArrayLike<0 | 1>, opts: ChooseOptions = {}): PenaltyChoice {
  const folds = opts.folds ?? 5;
  checkFolds(y, folds);
  const { best, curve } = chooseOnGrid(
    y,
    X.length,
    { grid: opts.grid ?? L2_GRID, folds, seed: opts.seed ?? 1, strata: opts.strata ?? y },
    (train) => {
      const Xt = rowsOf(X, train);
      const yt = rowsOf(y, train);
      return (l2, init: LogisticModel | undefined) => fitLogistic(Xt, yt, { l2, init });
    },
    (model, i) => predictLogit(model, X[i] as number[]),
  );
  return { l2: best, curve: curve.map((c) => ({ l2: c.value, logLoss: c.logLoss })) };
}

export interface NestedResult {
  oofScores: Float64Array;
  fold: Int32Array;
  /** The penalty each outer fold's model was fitted with (chosen inside that fold's training rows). */
  foldL2: number[];
  /** The outer folds' models, in fold order (their average is what calibration deploys: averageModels). */
  foldModels: LogisticModel[];
}

/**
 * Out-of-fold scores whose every model — penalty choice included — saw none of the scored rows: each outer training
 * fold chooses its own penalty by an inner cross-validation, then fits with it.
 */
export function nestedOutOfFold(
  X: number[][],
  y: ArrayLike<0 | 1>,
  opts: ChooseOptions & { innerFolds?: number; strata?: ArrayLike<number | string> } = {},
): NestedResult {
  const folds = opts.folds ?? 5;
  validate(X, y);
  checkFolds(y, folds);
  const r = nestedCrossValidation(
    X.length,
    { folds, innerFolds: opts.innerFolds ?? folds, seed: opts.seed ?? 1, strata: opts.strata ?? y },
    (train, inner) => {
      const Xt = rowsOf(X, train);
      const yt = rowsOf(y, train);
      const { l2 } = chooseL2(Xt, yt, { grid: opts.grid, ...inner });
      return { choice: l2, model: fitLogistic(Xt, yt, { l2 }) };
    },
    (model, i) => predictLogit(model, X[i] as number[]),
  );
  return { oofScores: r.oofScores, fold: r.fold, foldL2: r.choices, foldModels: r.models };
}
