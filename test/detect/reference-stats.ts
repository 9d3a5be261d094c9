/**
 * Independent reference computations for the detector tests, written apart from src/detect: standardisation, the
 * penalised logistic gradient (with per-group deviations), log-loss, brute-force AUROC and threshold, the binomial
 * CDF by direct summation and the Clopper–Pearson interval by bisection on it. Nothing here imports src/detect.
 */

/** Column means and population sds (a constant column: sd 1), computed plainly. */
export function ownStandardisation(X: number[][]): { mean: number[]; sd: number[]; Z: number[][] } {
  const n = X.length;
  const d = X[0]!.length;
  const mean: number[] = [];
  const sd: number[] = [];
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (const r of X) s += r[j]!;
    const m = s / n;
    let ss = 0;
    for (const r of X) ss += (r[j]! - m) ** 2;
    const constant = X.every((r) => r[j] === X[0]![j]);
    mean.push(m);
    sd.push(constant ? 1 : Math.sqrt(ss / n));
  }
  const Z = X.map((r) => r.map((x, j) => (X.every((q) => q[j] === X[0]![j]) ? 0 : (x - mean[j]!) / sd[j]!)));
  return { mean, sd, Z };
}

const logistic = (t: number) => 1 / (1 + Math.exp(-t));

export interface GroupPart {
  /** Group of each row (−1: none). */
  group: ArrayLike<number>;
  columns: readonly number[];
  l2: number;
  fits: { intercept: number; weights: number[] }[];
}

/**
 * ∇ of Σ_i [log(1 + e^η_i) − y_i η_i] + (l2/2)|w|² + (l2_dev/2) Σ_g (c_g² + |δ_g|²) in standardised coordinates,
 * η_i = b + Σ_j w_j z_ij + c_g + Σ_k δ_gk z_i,col(k) for a row of group g ≥ 0. Order: b, w, then per group c_g, δ_g.
 */
export function penalisedGradient(
  X: number[][],
  y: ArrayLike<number>,
  intercept: number,
  w: number[],
  l2: number,
  groups?: GroupPart,
): number[] {
  const { Z } = ownStandardisation(X);
  const d = w.length;
  const K = groups?.columns.length ?? 0;
  const G = groups?.fits.length ?? 0;
  const grad = new Array<number>(1 + d + G * (1 + K)).fill(0);
  Z.forEach((z, i) => {
    let eta = intercept;
    for (let j = 0; j < d; j++) eta += w[j]! * z[j]!;
    const g = groups ? groups.group[i]! : -1;
    if (g >= 0) {
      const f = groups!.fits[g]!;
      eta += f.intercept;
      groups!.columns.forEach((c, k) => (eta += f.weights[k]! * z[c]!));
    }
    const r = logistic(eta) - y[i]!;
    grad[0]! += r;
    for (let j = 0; j < d; j++) grad[1 + j]! += r * z[j]!;
    if (g >= 0) {
      const o = 1 + d + g * (1 + K);
      grad[o]! += r;
      groups!.columns.forEach((c, k) => (grad[o + 1 + k]! += r * z[c]!));
    }
  });
  for (let j = 0; j < d; j++) grad[1 + j]! += l2 * w[j]!;
  if (groups) {
    groups.fits.forEach((f, g) => {
      const o = 1 + d + g * (1 + K);
      grad[o]! += groups.l2 * f.intercept;
      f.weights.forEach((v, k) => (grad[o + 1 + k]! += groups.l2 * v));
    });
  }
  return grad;
}

/** Mean of log(1 + e^η) − y η, each term computed stably. */
export function meanLogLoss(eta: number[], y: ArrayLike<number>): number {
  let s = 0;
  eta.forEach((e, i) => {
    const lse = e > 0 ? e + Math.log(1 + Math.exp(-e)) : Math.log(1 + Math.exp(e));
    s += lse - y[i]! * e;
  });
  return s / eta.length;
}

/** P(S > H) + ½ P(S = H) over every synthetic × human pair. */
export function bruteAuroc(human: number[], synthetic: number[]): number {
  let wins = 0;
  for (const s of synthetic) for (const h of human) wins += s > h ? 1 : s === h ? 0.5 : 0;
  return wins / (human.length * synthetic.length);
}

/** The smallest human score t with #{h > t} / n ≤ target, by trying every human score. */
export function bruteThreshold(human: number[], target: number): number {
  let best = Infinity;
  for (const t of human) {
    const above = human.filter((h) => h > t).length;
    if (above / human.length <= target && t < best) best = t;
  }
  return best;
}

/** log k! for k = 0..n, by summing logs. */
function logFactorials(n: number): Float64Array {
  const f = new Float64Array(n + 1);
  for (let k = 1; k <= n; k++) f[k] = f[k - 1]! + Math.log(k);
  return f;
}

/** Σ_{j ∈ [from, to]} C(n, j) p^j (1 − p)^(n − j), every term summed directly (each term from logs). */
export function binomialSum(from: number, to: number, n: number, p: number): number {
  if (p <= 0) return from <= 0 && to >= 0 ? 1 : 0;
  if (p >= 1) return from <= n && to >= n ? 1 : 0;
  const lf = logFactorials(n);
  const lp = Math.log(p);
  const lq = Math.log(1 - p);
  let s = 0;
  for (let j = Math.max(0, from); j <= Math.min(n, to); j++)
    s += Math.exp(lf[n]! - lf[j]! - lf[n - j]! + j * lp + (n - j) * lq);
  return s;
}

/** Bisection for the root of a monotone f on [0, 1]: `decreasing` says which way f runs. */
function bisect(f: (p: number) => number, target: number, decreasing: boolean): number {
  let lo = 0;
  let hi = 1;
  for (let it = 0; it < 200; it++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    const above = f(mid) > target;
    if (above === decreasing) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The exact two-sided Clopper–Pearson interval at `confidence`: hi solves P(X ≤ k; n, hi) = α/2 (1 for k = n), lo
 * solves P(X ≥ k; n, lo) = α/2 (0 for k = 0), α = 1 − confidence.
 */
export function ownClopperPearson(k: number, n: number, confidence = 0.95): { lo: number; hi: number } {
  const a = (1 - confidence) / 2;
  const hi = k === n ? 1 : bisect((p) => binomialSum(0, k, n, p), a, true);
  const lo = k === 0 ? 0 : bisect((p) => binomialSum(k, n, n, p), a, false);
  return { lo, hi };
}
