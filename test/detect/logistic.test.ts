import { describe, expect, it } from 'vitest';
import { crossValidate, fitLogistic, predictLogit, predictProba, stratifiedFolds } from '../../src/detect/logistic.js';
import { auroc } from '../../src/detect/metrics.js';
import { gaussian, mulberry32 } from '../../src/random.js';
import { UsageError } from '../../src/errors.js';

function normals(seed: number) {
  const rng = mulberry32(seed);
  return () => gaussian(rng);
}

/**
 * Independent gradient of Σ [log(1 + e^η) − y η] + (l2/2) Σ w² in the standardised coordinates,
 * standardising with its own means and population sds.
 */
function penalisedGradient(X: number[][], y: (0 | 1)[], intercept: number, w: number[], l2: number): number[] {
  const n = X.length;
  const d = w.length;
  const mu = Array.from({ length: d }, (_, j) => X.reduce((a, r) => a + r[j]!, 0) / n);
  const sd = mu.map((m, j) => Math.sqrt(X.reduce((a, r) => a + (r[j]! - m) ** 2, 0) / n));
  const g = new Array<number>(d + 1).fill(0);
  X.forEach((r, i) => {
    const z = r.map((x, j) => (x - mu[j]!) / sd[j]!);
    const eta = intercept + z.reduce((a, zj, j) => a + zj * w[j]!, 0);
    const res = 1 / (1 + Math.exp(-eta)) - y[i]!;
    g[0]! += res;
    z.forEach((zj, j) => (g[j + 1]! += res * zj));
  });
  w.forEach((wj, j) => (g[j + 1]! += l2 * wj));
  return g;
}

function gaussianData(n: number, d: number, shift: number, seed: number): { X: number[][]; y: (0 | 1)[] } {
  const z = normals(seed);
  const y = Array.from({ length: n }, (_, i) => (i % 2) as 0 | 1);
  const X = y.map((l) => Array.from({ length: d }, (_, j) => z() * (j + 1) + (l === 1 ? shift : 0) + 3 * j));
  return { X, y };
}

describe('fitLogistic', () => {
  it('has zero penalised gradient at the solution (1-D)', () => {
    const { X, y } = gaussianData(300, 1, 0.8, 11);
    const m = fitLogistic(X, y, { l2: 1 });
    expect(m.converged).toBe(true);
    for (const g of penalisedGradient(X, y, m.intercept, m.weights, 1)) expect(Math.abs(g)).toBeLessThan(1e-8);
    // Class 1 is shifted up, so the weight is positive.
    expect(m.weights[0]).toBeGreaterThan(0);
  });

  it('has zero penalised gradient at the solution (3-D, various l2)', () => {
    const { X, y } = gaussianData(500, 3, 0.5, 12);
    for (const l2 of [0, 0.1, 10]) {
      const m = fitLogistic(X, y, { l2 });
      expect(m.converged).toBe(true);
      for (const g of penalisedGradient(X, y, m.intercept, m.weights, l2)) expect(Math.abs(g)).toBeLessThan(1e-8);
    }
  });

  it('recovers the saturated two-group MLE: rates 1/4 and 3/4 give w = ln 3, b = 0', () => {
    // x = ±1 has mean 0 and population sd 1, so z = x.
    const X = [[-1], [-1], [-1], [-1], [1], [1], [1], [1]];
    const y: (0 | 1)[] = [0, 0, 0, 1, 0, 1, 1, 1];
    const m = fitLogistic(X, y, { l2: 0 });
    expect(m.mean).toEqual([0]);
    expect(m.scale).toEqual([1]);
    expect(m.weights[0]).toBeCloseTo(Math.log(3), 12);
    expect(m.intercept).toBeCloseTo(0, 12);
    expect(predictProba(m, [1])).toBeCloseTo(0.75, 12);
    expect(predictProba(m, [-1])).toBeCloseTo(0.25, 12);
    expect(predictLogit(m, [0])).toBeCloseTo(0, 12);
  });

  it('keeps separable data finite: symmetric case solves w = 4 σ(−w) / l2', () => {
    const X = [[-1], [-1], [1], [1]];
    const y: (0 | 1)[] = [0, 0, 1, 1];
    // By symmetry b = 0; ∂/∂w: −4 σ(−w) + l2 w = 0. Solve by bisection.
    let lo = 0;
    let hi = 10;
    for (let i = 0; i < 200; i++) {
      const mid = (lo + hi) / 2;
      if (4 / (1 + Math.exp(mid)) - mid > 0) lo = mid;
      else hi = mid;
    }
    const m = fitLogistic(X, y); // l2 = 1 by default
    expect(m.converged).toBe(true);
    expect(m.weights[0]).toBeCloseTo(lo, 10);
    expect(m.intercept).toBeCloseTo(0, 12);
  });

  it('separable multi-feature data: finite weights, every training row classified right', () => {
    const { X, y } = gaussianData(200, 4, 40, 13);
    const m = fitLogistic(X, y, { l2: 0.01 });
    expect(m.converged).toBe(true);
    expect(m.weights.every(Number.isFinite)).toBe(true);
    X.forEach((x, i) => expect(predictLogit(m, x) > 0 ? 1 : 0).toBe(y[i]));
  });

  it('gives a constant feature scale 1 and weight 0', () => {
    const { X, y } = gaussianData(100, 2, 1, 14);
    const Xc = X.map((r) => [r[0]!, 0.1, r[1]!]);
    const m = fitLogistic(Xc, y, { l2: 0, features: ['a', 'const', 'b'] });
    const ref = fitLogistic(X, y, { l2: 0 });
    expect(m.scale[1]).toBe(1);
    expect(m.weights[1]).toBe(0);
    expect(m.weights[0]).toBeCloseTo(ref.weights[0]!, 10);
    expect(m.weights[2]).toBeCloseTo(ref.weights[1]!, 10);
    expect(m.features).toEqual(['a', 'const', 'b']);
  });

  it('rejects a single class and ragged rows', () => {
    expect(() => fitLogistic([[1], [2]], [1, 1])).toThrow(UsageError);
    expect(() => fitLogistic([[1], [2, 3]], [0, 1])).toThrow(UsageError);
    expect(() => fitLogistic([[1], [NaN]], [0, 1])).toThrow(UsageError);
  });
});

describe('crossValidate', () => {
  it('stratifies: every fold gets its share of each class', () => {
    const y = Array.from({ length: 103 }, (_, i) => (i < 23 ? 1 : 0) as 0 | 1);
    const fold = stratifiedFolds(y, 5, 9);
    for (let f = 0; f < 5; f++) {
      const pos = y.filter((l, i) => l === 1 && fold[i] === f).length;
      const neg = y.filter((l, i) => l === 0 && fold[i] === f).length;
      expect(pos === 4 || pos === 5).toBe(true);
      expect(neg === 16).toBe(true);
    }
  });

  it('out-of-fold AUROC is high on separated Gaussians and near 0.5 on noise', () => {
    const sep = gaussianData(400, 3, 2.5, 21); // Bayes AUROC Φ(δ/√2) ≈ 0.98
    const { oofScores } = crossValidate(sep.X, sep.y, { folds: 5, seed: 1 });
    expect(auroc(oofScores, sep.y)).toBeGreaterThan(0.9);

    const noise = gaussianData(400, 3, 0, 22);
    const cv = crossValidate(noise.X, noise.y, { folds: 5, seed: 1, l2: 1 });
    const a = auroc(cv.oofScores, noise.y);
    expect(a).toBeGreaterThan(0.4);
    expect(a).toBeLessThan(0.6);
  });

  it('scores each row with a model that never saw it', () => {
    const { X, y } = gaussianData(60, 2, 1, 23);
    const { oofScores, fold } = crossValidate(X, y, { folds: 3, seed: 4 });
    const train = X.flatMap((_, i) => (fold[i] === 0 ? [] : [i]));
    const m = fitLogistic(train.map((i) => X[i]!), train.map((i) => y[i]!));
    X.forEach((x, i) => {
      if (fold[i] === 0) expect(oofScores[i]).toBeCloseTo(predictLogit(m, x), 12);
    });
  });
});
