/**
 * Partial pooling across domains (src/detect/partial-pooling.ts) and the per-domain thresholds built on it
 * (src/detect/domains.ts), every number checked against an independent computation (reference-stats.ts) or a
 * limit it must reach: the pooled model at an infinite deviation penalty, warm starts = cold fits, out-of-fold
 * scores that never saw their own rows, a flipped domain's opposite sign, each domain's threshold and FPR estimate.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calibrate, designMatrix } from '../../src/detect/detector.js';
import { calibrateByDomainWithOof } from '../../src/detect/domains.js';
import { FEATURES, type ScoreRow } from '../../src/detect/features.js';
import {
  fitLogistic,
  fitLogisticWithDeviations,
  predictLogit,
  stratifiedFoldsBy,
  type LogisticModel,
} from '../../src/detect/logistic.js';
import { thresholdAtFpr } from '../../src/detect/metrics.js';
import {
  choosePooling,
  fitPartialPooling,
  foldGroup,
  movement,
  nestedPoolingOutOfFold,
  predictPooled,
  type PooledFit,
} from '../../src/detect/partial-pooling.js';
import { gaussian, mulberry32 } from '../../src/random.js';
import { domainRows } from './fake-scores.js';
import { bruteThreshold, ownClopperPearson } from './reference-stats.js';

const rowsAt = <T>(v: ArrayLike<T>, idx: number[]) => idx.map((i) => v[i] as T);
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const params = (m: LogisticModel) => [m.intercept, ...m.weights];
const allParams = (f: PooledFit) => [...params(f.shared), ...f.groups.flatMap((g) => [g.intercept, ...g.weights])];

/**
 * n rows in 3 groups (0, 1, and −1: no group) with d features; feature 0 separates the classes one way in group 0
 * and the other way in group 1.
 */
function groupedData(n: number, d: number, seed: number) {
  const rng = mulberry32(seed);
  const z = () => gaussian(rng);
  const group = Int32Array.from({ length: n }, (_, i) => (i % 3 === 2 ? -1 : i % 3));
  const y = Array.from({ length: n }, (_, i) => (Math.floor(i / 3) % 2) as 0 | 1);
  const X = y.map((l, i) =>
    Array.from({ length: d }, (_, j) => z() * (j + 1) + (j === 0 && l ? (group[i] === 1 ? -1 : 1) : 0) + 0.4 * j * l),
  );
  return { X, y, group };
}

describe('fitPartialPooling: the limits it must reach', () => {
  const { X, y, group } = groupedData(150, 3, 41);
  const cols = [0, 1];

  it('with l2Dev = ∞ is fitLogistic, and every domain folds to the shared model', () => {
    const pooled = fitPartialPooling(X, y, group, 2, { l2: 0.7, l2Dev: Infinity, deviationColumns: cols });
    const plain = fitLogistic(X, y, { l2: 0.7 });
    expect(maxAbsDiff(params(pooled.shared), params(plain))).toBeLessThan(1e-12);
    expect(pooled.groups).toEqual([]);
    for (const g of [-1, 0, 1]) {
      expect(foldGroup(pooled, g)).toEqual(pooled.shared);
      expect(movement(pooled.shared, foldGroup(pooled, g), cols)).toEqual({
        relative_weight_change: 0,
        intercept_shift: 0,
      });
      for (const x of X.slice(0, 10)) expect(predictPooled(pooled, x, g)).toBeCloseTo(predictLogit(plain, x), 12);
    }
  });

  it('a huge finite l2Dev approaches it, deviations shrinking as 1/l2Dev', () => {
    const plain = params(fitLogistic(X, y, { l2: 0.7 }));
    const gap = (l2Dev: number) => {
      const f = fitPartialPooling(X, y, group, 2, { l2: 0.7, l2Dev, deviationColumns: cols });
      const devs = f.groups.flatMap((g) => [g.intercept, ...g.weights]).map(Math.abs);
      return { shared: maxAbsDiff(params(f.shared), plain), dev: Math.max(...devs) };
    };
    const [a, b, c] = [gap(1e3), gap(1e5), gap(1e7)];
    expect(c.shared).toBeLessThan(1e-5);
    expect(c.dev).toBeLessThan(1e-5);
    expect(a.dev / b.dev).toBeGreaterThan(50);
    expect(b.dev / c.dev).toBeGreaterThan(50);
    expect(b.shared / c.shared).toBeGreaterThan(50);
  });

  it("warm starts: a fit maps into new rows' standardisation without changing a prediction, and reaches the cold fit (1e-8)", () => {
    const other = groupedData(90, 3, 42);
    const a = fitPartialPooling(other.X, other.y, other.group, 2, { l2: 2, l2Dev: 3, deviationColumns: cols });
    const mapped = fitLogisticWithDeviations(X, y, {
      l2: 2,
      maxIter: 0,
      deviations: { group, groups: 2, columns: cols, l2: 3 },
      init: { shared: a.shared, groups: a.groups },
    });
    expect(mapped.model.iterations).toBe(0);
    const asFit: PooledFit = { shared: mapped.model, deviationColumns: cols, l2Dev: 3, groups: mapped.groups };
    for (const g of [-1, 0, 1]) {
      for (const x of X.slice(0, 15)) {
        const want = predictPooled(a, x, g);
        expect(Math.abs(predictPooled(asFit, x, g) - want)).toBeLessThan(1e-12 * (1 + Math.abs(want)));
      }
    }
    for (const l2Dev of [0.3, 3, 100]) {
      const cold = fitPartialPooling(X, y, group, 2, { l2: 2, l2Dev, deviationColumns: cols });
      for (const init of [a, fitPartialPooling(X, y, group, 2, { l2: 2, l2Dev: Infinity, deviationColumns: cols })]) {
        const warm = fitPartialPooling(X, y, group, 2, { l2: 2, l2Dev, deviationColumns: cols, init });
        expect(warm.shared.converged).toBe(true);
        expect(maxAbsDiff(allParams(warm), allParams(cold))).toBeLessThan(1e-8);
      }
    }
  });
});

describe("nestedPoolingOutOfFold: no row's score ever saw the row", () => {
  const grid = [10, 1];
  const devGrid = [Infinity, 3, 0.3];
  const cols = [0];
  const opts = (seed: number, strata: string[]) => ({ grid, devGrid, folds: 3, innerFolds: 2, seed, strata });
  /** Row i's score recomputed: both penalties chosen on the other folds' rows (inner folds 2), then fitted and applied. */
  const recompute = (
    X: number[][],
    y: (0 | 1)[],
    group: Int32Array,
    strata: string[],
    fold: Int32Array,
    seed: number,
    i: number,
  ) => {
    const f = fold[i]!;
    const train = X.flatMap((_, j) => (fold[j] === f ? [] : [j]));
    const Xt = rowsAt(X, train);
    const yt = rowsAt(y, train);
    const gt = Int32Array.from(rowsAt(group, train));
    const c = choosePooling(Xt, yt, gt, 2, cols, {
      grid,
      devGrid,
      folds: 2,
      seed: seed + 1 + f,
      strata: rowsAt(strata, train),
    });
    const fit = fitPartialPooling(Xt, yt, gt, 2, { l2: c.l2, l2Dev: c.l2Dev, deviationColumns: cols });
    return { choice: { l2: c.l2, l2Dev: c.l2Dev }, score: predictPooled(fit, X[i]!, group[i]!) };
  };

  it("a row's label, or its features, change nothing its fold was scored with; its score is the recomputation, exactly", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.nat(35),
        fc.double({ min: -3, max: 3, noNaN: true }),
        (seed, i, delta) => {
          const { X, y, group } = groupedData(36, 2, seed);
          const strata = y.map((l, j) => `${l}:${group[j]}`); // fixed, whatever the labels below
          const base = nestedPoolingOutOfFold(X, y, group, 2, cols, opts(seed, strata));
          expect(Array.from(base.fold)).toEqual(Array.from(stratifiedFoldsBy(strata, 3, seed)));
          const sameFold = X.flatMap((_, j) => (base.fold[j] === base.fold[i] ? [j] : []));
          const rec = recompute(X, y, group, strata, base.fold, seed, i);
          expect(base.oofScores[i]).toBe(rec.score);
          expect(base.foldChoices[base.fold[i]!]).toEqual(rec.choice);

          const flipped = y.map((l, j) => (j === i ? ((1 - l) as 0 | 1) : l));
          const a = nestedPoolingOutOfFold(X, flipped, group, 2, cols, opts(seed, strata));
          for (const j of sameFold) expect(a.oofScores[j]).toBe(base.oofScores[j]);

          const moved = X.map((x, j) => (j === i ? x.map((v, k) => v + delta * (k + 1) + 0.5) : x));
          const b = nestedPoolingOutOfFold(moved, y, group, 2, cols, opts(seed, strata));
          for (const j of sameFold) if (j !== i) expect(b.oofScores[j]).toBe(base.oofScores[j]);
          expect(b.oofScores[i]).toBe(recompute(moved, y, group, strata, base.fold, seed, i).score);
        },
      ),
      { numRuns: 10, seed: 20240612 },
    );
  });

  it("every row's score equals the independent recomputation (default strata: label × group)", () => {
    const { X, y, group } = groupedData(45, 2, 43);
    const strata = y.map((l, j) => `${l}:${group[j]}`);
    const r = nestedPoolingOutOfFold(X, y, group, 2, cols, { grid, devGrid, folds: 3, innerFolds: 2, seed: 9 });
    expect(Array.from(r.fold)).toEqual(Array.from(stratifiedFoldsBy(strata, 3, 9)));
    X.forEach((_, i) => expect(r.oofScores[i]).toBe(recompute(X, y, group, strata, r.fold, 9, i).score));
  });
});

/** Rows of the given domains (human and machine counts each), in the order human rows, then machine rows. */
function domainSet(parts: [string, number, number][], seed: number) {
  const human: ScoreRow[] = [];
  const synthetic: ScoreRow[] = [];
  const hd: string[] = [];
  const sd: string[] = [];
  parts.forEach(([d, nh, ns], k) => {
    human.push(...domainRows(d, nh, false, seed + 2 * k));
    hd.push(...Array<string>(nh).fill(d));
    synthetic.push(...domainRows(d, ns, true, seed + 2 * k + 1));
    sd.push(...Array<string>(ns).fill(d));
  });
  return { human, synthetic, hd, sd };
}

describe("partial pooling where one domain's likelihood signal flips sign", () => {
  const { human, synthetic, hd, sd } = domainSet(
    [
      ['news', 80, 80],
      ['wiki', 80, 80],
      ['flip', 80, 80],
    ],
    50,
  );
  const X = designMatrix([...human, ...synthetic], FEATURES);
  const y = [...human.map(() => 0 as const), ...synthetic.map(() => 1 as const)];
  const names = ['news', 'wiki', 'flip'];
  const group = Int32Array.from([...hd, ...sd], (d) => names.indexOf(d));
  const all = FEATURES.map((_, j) => j);
  const fit = fitPartialPooling(X, y, group, 3, { l2: 1, l2Dev: 1, deviationColumns: all, features: [...FEATURES] });
  const likelihood = ['mean_nll', 'fast_detect'].map((f) => FEATURES.indexOf(f as (typeof FEATURES)[number]));

  it("the flipped domain's folded model has the opposite sign on the likelihood signals, and moved the most", () => {
    const [news, wiki, flip] = [0, 1, 2].map((g) => foldGroup(fit, g));
    for (const j of likelihood) {
      expect(Math.sign(news!.weights[j]!)).toBe(Math.sign(wiki!.weights[j]!));
      expect(flip!.weights[j]! * news!.weights[j]!).toBeLessThan(0);
    }
    // Machine text is more predictable in news: a lower NLL and a higher Fast-DetectGPT score mean machine.
    expect(news!.weights[likelihood[0]!]).toBeLessThan(0);
    expect(news!.weights[likelihood[1]!]).toBeGreaterThan(0);
    const moved = [0, 1, 2].map((g) => movement(fit.shared, foldGroup(fit, g), all).relative_weight_change);
    expect(moved[2]).toBeGreaterThan(moved[0]!);
    expect(moved[2]).toBeGreaterThan(moved[1]!);
    // movement is the norm of the deviations over the norm of the shared weights.
    const norm = (v: number[]) => Math.hypot(...v);
    expect(moved[2]).toBeCloseTo(norm(fit.groups[2]!.weights) / norm(fit.shared.weights), 12);
    expect(movement(fit.shared, flip!, all).intercept_shift).toBeCloseTo(fit.groups[2]!.intercept, 12);
    // The folded model is the shared one plus the deviations, and scores as predictPooled does.
    for (const j of all) expect(flip!.weights[j]).toBe(fit.shared.weights[j]! + fit.groups[2]!.weights[j]!);
    expect(flip!.intercept).toBe(fit.shared.intercept + fit.groups[2]!.intercept);
    for (const x of X.slice(0, 10)) expect(predictLogit(flip!, x)).toBeCloseTo(predictPooled(fit, x, 2), 10);
  });

  it("with l2Dev = ∞ every domain's folded model is the shared one", () => {
    const none = fitPartialPooling(X, y, group, 3, { l2: 1, l2Dev: Infinity, deviationColumns: all });
    for (const g of [0, 1, 2]) expect(foldGroup(none, g)).toEqual(none.shared);
    expect(maxAbsDiff(params(none.shared), params(fitLogistic(X, y, { l2: 1 })))).toBeLessThan(1e-12);
  });
});

describe('per-domain thresholds: own where its humans certify the FPR, else the common one with its estimate', () => {
  // At a 5% FPR, 59 humans certify it: news (60) gets its own threshold, flip (30, exactly --min-per-class) the
  // common one, wee (12 of each) no ranking of its own.
  const { human, synthetic, hd, sd } = domainSet(
    [
      ['news', 60, 40],
      ['flip', 30, 30],
      ['wee', 12, 12],
    ],
    60,
  );
  const { file, outOfFold } = calibrateByDomainWithOof(human, synthetic, {
    targetFpr: 0.05,
    model: 'fake',
    field: 'domain',
    humanDomains: hd,
    syntheticDomains: sd,
    features: ['signals'],
    folds: 3,
    innerFolds: 2,
    l2Grid: [10, 1],
    deviationGrid: [Infinity, 3],
  });
  const domains = file.domains!;
  const domainOf = [...hd, ...sd];
  const humanOof = (ds: string[]) =>
    outOfFold.labels.flatMap((l, i) => (l === 0 && ds.includes(domainOf[i]!) ? [outOfFold.scores[i]!] : []));
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

  it('routes news and flip to rankings of their own, wee to the pooled detector', () => {
    expect(Object.keys(domains.detectors).sort()).toEqual(['flip', 'news']);
    expect(domains.pooled).toEqual({ wee: '12 human and 12 machine examples; a ranking of its own needs 30 of each' });
    expect(outOfFold.domains).toEqual(domainOf);
  });

  it("deploys each domain's detector as the mean of the outer folds' models (the scale its threshold was set on)", () => {
    const names = ['flip', 'news'];
    const rows = [...human, ...synthetic];
    const labels = [...human.map(() => 0 as const), ...synthetic.map(() => 1 as const)];
    const X = designMatrix(rows, FEATURES);
    const group = Int32Array.from(domainOf, (d) => names.indexOf(d));
    const nested = nestedPoolingOutOfFold(
      X,
      labels,
      group,
      2,
      FEATURES.map((_, j) => j),
      {
        grid: [10, 1],
        devGrid: [Infinity, 3],
        folds: 3,
        innerFolds: 2,
        seed: 1,
      },
    );
    expect(nested.foldFits).toHaveLength(3);
    names.forEach((d, g) => {
      const spec = domains.detectors[d]!.detector;
      if (spec.kind !== 'logistic') throw new Error('logistic expected');
      X.forEach((x, i) => {
        const want = nested.foldFits.reduce((a, f) => a + predictPooled(f, x, g), 0) / 3;
        expect(Math.abs(predictLogit(spec.model, x) - want), `${d} row ${i}`).toBeLessThan(1e-9 * (1 + Math.abs(want)));
      });
    });
  });

  it('news: its own threshold, the target FPR over its out-of-fold human scores', () => {
    const news = domains.detectors.news!;
    expect(news.threshold_source).toBe('domain');
    const h = humanOof(['news']);
    expect(h).toHaveLength(60);
    expect(news.detector.threshold).toBe(bruteThreshold(h, 0.05));
    expect(news.detector.threshold).toBe(thresholdAtFpr(h, 0.05).threshold);
    const fp = h.filter((s) => s > news.detector.threshold).length;
    expect(fp / 60).toBeLessThanOrEqual(0.05);
    expect(news.fpr_estimate!.value).toBe(fp / 60);
    expect(news.warning).toBeUndefined();
  });

  it('flip: the common-scale threshold, its FPR at it with an exact interval (own Clopper–Pearson), and a warning naming it', () => {
    const flip = domains.detectors.flip!;
    expect(flip.threshold_source).toBe('common');
    // The common scale, recomputed: each domain's OOF human scores standardised by their median and IQR (type-7 quantiles).
    const q7 = (xs: number[], p: number) => {
      const v = [...xs].sort((a, b) => a - b);
      const h = (v.length - 1) * p;
      const lo = Math.floor(h);
      return lo + 1 < v.length ? v[lo]! + (h - lo) * (v[lo + 1]! - v[lo]!) : v[lo]!;
    };
    const scaleOf = (d: string) => {
      const xs = humanOof([d]);
      return { location: q7(xs, 0.5), spread: q7(xs, 0.75) - q7(xs, 0.25) };
    };
    const standardised = ['news', 'flip'].flatMap((d) =>
      humanOof([d]).map((x) => (x - scaleOf(d).location) / scaleOf(d).spread),
    );
    const common = bruteThreshold(standardised, 0.05);
    expect(domains.pooling!.common_threshold).toBe(common);
    expect(flip.scale!.location).toBeCloseTo(scaleOf('flip').location, 12);
    expect(flip.scale!.spread).toBeCloseTo(scaleOf('flip').spread, 12);
    const raw = scaleOf('flip').location + scaleOf('flip').spread * common;
    expect(flip.detector.threshold).toBeCloseTo(raw, 10);
    const h = humanOof(['flip']);
    expect(h).toHaveLength(30);
    const fp = h.filter((s) => s > flip.detector.threshold).length;
    expect(flip.fpr_estimate!.value).toBe(fp / 30);
    expect(Math.abs(fp / 30 - 0.05)).toBeLessThan(0.1); // the standardised threshold lands near the target quantile
    expect(flip.fpr_estimate!.n_human).toBe(30);
    const ci = ownClopperPearson(fp, 30);
    expect(Math.abs(flip.fpr_estimate!.ci.lo - ci.lo)).toBeLessThan(1e-9);
    expect(Math.abs(flip.fpr_estimate!.ci.hi - ci.hi)).toBeLessThan(1e-9);
    expect(flip.calibration.stats.threshold_fpr).toBe(fp / 30);
    const warning =
      `domain 'flip': 30 human examples cannot certify a 5% false-positive rate (need 59); it uses the common threshold, ` +
      `at which its estimated FPR is ${pct(fp / 30)} (95% CI ${pct(ci.lo)}–${pct(ci.hi)})`;
    expect(flip.warning).toBe(warning);
    // 90 grouped humans certify the common threshold itself: no warning about it.
    expect(domains.warnings).toEqual([warning]);
  });

  it("every row is judged by its domain's threshold (pooled rows by the pooled one), flagged iff score > threshold", () => {
    const want = {
      news: domains.detectors.news!.detector.threshold,
      flip: domains.detectors.flip!.detector.threshold,
      wee: file.detector.threshold,
    };
    domainOf.forEach((d, i) => expect(outOfFold.thresholds[i]).toBe(want[d as keyof typeof want]));
    // Pooled rows keep the pooled model's out-of-fold scores; its threshold is the target FPR over every human's.
    const pooled = calibrate(human, synthetic, {
      targetFpr: 0.05,
      model: 'fake',
      features: ['signals'],
      folds: 3,
      innerFolds: 2,
      l2Grid: [10, 1],
    });
    expect(file.detector).toEqual(pooled.file.detector);
    domainOf.forEach((d, i) => {
      if (d === 'wee') expect(outOfFold.scores[i]).toBe(pooled.outOfFold.scores[i]);
    });
    expect(file.detector.threshold).toBe(
      bruteThreshold(Array.from(pooled.outOfFold.scores.subarray(0, human.length)), 0.05),
    );
  });
});
