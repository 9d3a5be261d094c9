import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  averageModels,
  chooseL2,
  crossValidate,
  fitLogistic,
  nestedOutOfFold,
  predictLogit,
  predictProba,
  stratifiedFolds,
  stratifiedFoldsBy,
  type LogisticModel,
} from '../../src/detect/logistic.js';
import { auroc } from '../../src/detect/metrics.js';
import { fitPartialPooling } from '../../src/detect/partial-pooling.js';
import { gaussian, mulberry32 } from '../../src/random.js';
import { UsageError } from '../../src/errors.js';
import { meanLogLoss, ownStandardisation, penalisedGradient as groupGradient } from './reference-stats.js';

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
    const m = fitLogistic(
      train.map((i) => X[i]!),
      train.map((i) => y[i]!),
    );
    X.forEach((x, i) => {
      if (fold[i] === 0) expect(oofScores[i]).toBeCloseTo(predictLogit(m, x), 12);
    });
  });
});

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const params = (m: LogisticModel) => [m.intercept, ...m.weights];
const rowsAt = <T>(v: ArrayLike<T>, idx: number[]) => idx.map((i) => v[i] as T);

describe('warm starts', () => {
  const { X, y } = gaussianData(120, 3, 0.7, 31);
  const other = gaussianData(80, 3, 1.5, 32);

  it('map a model into another standardisation without changing a single prediction (no Newton step taken)', () => {
    const a = fitLogistic(other.X, other.y, { l2: 3 });
    const b = fitLogistic(X, y, { l2: 3, init: a, maxIter: 0 });
    expect(b.iterations).toBe(0);
    expect(b.mean).not.toEqual(a.mean);
    for (const x of [...X.slice(0, 20), [0, 0, 0], [10, -5, 3]])
      expect(Math.abs(predictLogit(b, x) - predictLogit(a, x))).toBeLessThan(
        1e-12 * (1 + Math.abs(predictLogit(a, x))),
      );
  });

  it('reach the cold fit (to 1e-8), from a model of other rows and another penalty, or of the same rows', () => {
    for (const l2 of [0.03, 1, 30]) {
      const cold = fitLogistic(X, y, { l2 });
      for (const init of [fitLogistic(other.X, other.y, { l2: 300 }), fitLogistic(X, y, { l2: 0.3 })]) {
        const warm = fitLogistic(X, y, { l2, init });
        expect(warm.converged).toBe(true);
        expect(maxAbsDiff(params(warm), params(cold))).toBeLessThan(1e-8);
      }
    }
    // Started at its own solution, Newton stops after one (null) step.
    const cold = fitLogistic(X, y, { l2: 1 });
    expect(fitLogistic(X, y, { l2: 1, init: cold }).iterations).toBe(1);
  });
});

describe('chooseL2', () => {
  it("its curve is the mean out-of-fold log-loss of cold fits, fold by fold; its choice is the curve's argmin", () => {
    const { X, y } = gaussianData(90, 4, 0.6, 33);
    const grid = [0.03, 30, 3, 0.3]; // unsorted on purpose: the curve runs from the strongest penalty down
    const folds = 4;
    const seed = 7;
    const choice = chooseL2(X, y, { grid, folds, seed });
    expect(choice.curve.map((c) => c.l2)).toEqual([30, 3, 0.3, 0.03]);
    const fold = stratifiedFolds(y, folds, seed);
    const ownCurve = [30, 3, 0.3, 0.03].map((l2) => {
      const eta = new Array<number>(X.length);
      for (let f = 0; f < folds; f++) {
        const train = X.flatMap((_, i) => (fold[i] === f ? [] : [i]));
        const m = fitLogistic(rowsAt(X, train), rowsAt(y, train), { l2 });
        X.forEach((x, i) => {
          if (fold[i] === f) eta[i] = predictLogit(m, x);
        });
      }
      return meanLogLoss(eta, y);
    });
    choice.curve.forEach((c, k) => expect(Math.abs(c.logLoss - ownCurve[k]!)).toBeLessThan(1e-10));
    const argmin = ownCurve.indexOf(Math.min(...ownCurve));
    expect(choice.l2).toBe([30, 3, 0.3, 0.03][argmin]);
    // The data make the choice matter: the curve is not flat.
    expect(Math.max(...ownCurve) - Math.min(...ownCurve)).toBeGreaterThan(1e-3);
  });
});

describe("nestedOutOfFold: no row's score ever saw the row", () => {
  const grid = [10, 1, 0.1];
  const opts = (seed: number, strata: number[]) => ({ grid, folds: 3, innerFolds: 2, seed, strata });
  /** Row i's score recomputed: the penalty chosen on the other folds' rows (inner folds 2), then fitted and applied. */
  const recompute = (X: number[][], y: (0 | 1)[], strata: number[], fold: Int32Array, seed: number, i: number) => {
    const f = fold[i]!;
    const train = X.flatMap((_, j) => (fold[j] === f ? [] : [j]));
    const { l2 } = chooseL2(rowsAt(X, train), rowsAt(y, train), {
      grid,
      folds: 2,
      seed: seed + 1 + f,
      strata: rowsAt(strata, train),
    });
    return { l2, score: predictLogit(fitLogistic(rowsAt(X, train), rowsAt(y, train), { l2 }), X[i]!) };
  };

  it("a row's label, or its features, change nothing its fold was scored with; its score is the recomputation, exactly", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.nat(23),
        fc.double({ min: -3, max: 3, noNaN: true }),
        (seed, i, delta) => {
          const { X, y } = gaussianData(24, 2, 1, seed);
          const strata = [...y]; // the folds are fixed by these, whatever the labels below
          const base = nestedOutOfFold(X, y, opts(seed, strata));
          expect(Array.from(base.fold)).toEqual(Array.from(stratifiedFoldsBy(strata, 3, seed)));
          const sameFold = X.flatMap((_, j) => (base.fold[j] === base.fold[i] ? [j] : []));
          const rec = recompute(X, y, strata, base.fold, seed, i);
          expect(base.oofScores[i]).toBe(rec.score);
          expect(base.foldL2[base.fold[i]!]).toBe(rec.l2);

          // Flip row i's label: neither its score nor any score of its fold moves.
          const flipped = y.map((l, j) => (j === i ? ((1 - l) as 0 | 1) : l));
          const a = nestedOutOfFold(X, flipped, opts(seed, strata));
          for (const j of sameFold) expect(a.oofScores[j]).toBe(base.oofScores[j]);

          // Move row i's features: the other rows of its fold keep their scores, and row i's is the same model applied
          // to its new features.
          const moved = X.map((x, j) => (j === i ? x.map((v, k) => v + delta * (k + 1) + 0.5) : x));
          const b = nestedOutOfFold(moved, y, opts(seed, strata));
          for (const j of sameFold) if (j !== i) expect(b.oofScores[j]).toBe(base.oofScores[j]);
          expect(b.oofScores[i]).toBe(recompute(moved, y, strata, base.fold, seed, i).score);
        },
      ),
      { numRuns: 12, seed: 20240611 },
    );
  });

  it("every row's score equals the independent recomputation", () => {
    const { X, y } = gaussianData(30, 3, 0.8, 34);
    const strata = [...y];
    const r = nestedOutOfFold(X, y, opts(5, strata));
    X.forEach((_, i) => expect(r.oofScores[i]).toBe(recompute(X, y, strata, r.fold, 5, i).score));
  });
});

describe('the penalised gradient with group deviations', () => {
  it('is zero at the solution, by an independent gradient (own standardisation, constant column pinned)', () => {
    const z = normals(35);
    const n = 150;
    const group = Int32Array.from({ length: n }, (_, i) => (i % 3 === 2 ? -1 : i % 3));
    const y = Array.from({ length: n }, (_, i) => (Math.floor(i / 3) % 2) as 0 | 1);
    // Column 0 helps in group 0 and hurts in group 1; column 3 is constant.
    const X = y.map((l, i) => [z() + (l ? (group[i] === 1 ? -0.8 : 0.8) : 0), 2 * z() + 5, z() + 0.3 * l, 7]);
    const columns = [0, 2, 3];
    const fit = fitPartialPooling(X, y, group, 2, { l2: 0.5, l2Dev: 2, deviationColumns: columns });
    expect(fit.shared.converged).toBe(true);
    const own = ownStandardisation(X);
    expect(maxAbsDiff(fit.shared.mean, own.mean)).toBeLessThan(1e-12);
    expect(maxAbsDiff(fit.shared.scale, own.sd)).toBeLessThan(1e-12);
    expect(fit.shared.weights[3]).toBe(0);
    fit.groups.forEach((g) => expect(g.weights[2]).toBe(0));
    // Group 1's deviation on column 0 pulls against the shared weight.
    expect(fit.groups[1]!.weights[0]! * fit.shared.weights[0]!).toBeLessThan(0);
    const grad = groupGradient(X, y, fit.shared.intercept, fit.shared.weights, 0.5, {
      group,
      columns,
      l2: 2,
      fits: fit.groups,
    });
    expect(grad).toHaveLength(1 + 4 + 2 * 4);
    for (const g of grad) expect(Math.abs(g)).toBeLessThan(1e-8);
  });
});

describe('averageModels', () => {
  it("scores every row with the mean of the models' logits, on the frame it is given", () => {
    const rnd = normals(31);
    const X = Array.from({ length: 60 }, () => [rnd(), 3 + 2 * rnd(), -1 + 0.5 * rnd()]);
    const y = X.map((r) => (r[0]! + 0.5 * r[1]! + 0.3 * rnd() > 1.5 ? 1 : 0) as 0 | 1);
    const { foldModels, oofScores, fold } = nestedOutOfFold(X, y, { folds: 3, innerFolds: 2, grid: [10, 1] });
    expect(foldModels).toHaveLength(3);
    // each out-of-fold score came from the model of its own fold
    X.forEach((x, i) => expect(predictLogit(foldModels[fold[i]!]!, x)).toBeCloseTo(oofScores[i]!, 12));
    const frame = { mean: [10, -4, 0.25], scale: [2, 0.5, 7] };
    const avg = averageModels(foldModels, frame);
    expect(avg.mean).toEqual(frame.mean);
    expect(avg.scale).toEqual(frame.scale);
    const rng = normals(32);
    for (let t = 0; t < 20; t++) {
      const x = [5 * rng(), 5 * rng(), 5 * rng()];
      const want = foldModels.reduce((a, m) => a + predictLogit(m, x), 0) / foldModels.length;
      expect(predictLogit(avg, x)).toBeCloseTo(want, 10);
    }
  });

  it('is the model itself for one model, and refuses none or mixed widths', () => {
    const m: LogisticModel = {
      mean: [1, 2],
      scale: [3, 4],
      weights: [0.5, -2],
      intercept: 0.7,
      iterations: 3,
      converged: true,
    };
    const a = averageModels([m]);
    expect(a.weights[0]).toBeCloseTo(0.5, 14);
    expect(a.weights[1]).toBeCloseTo(-2, 14);
    expect(a.intercept).toBeCloseTo(0.7, 14);
    expect(() => averageModels([])).toThrow(UsageError);
    expect(() => averageModels([m, { ...m, weights: [1], mean: [0], scale: [1] }])).toThrow(UsageError);
  });
});
