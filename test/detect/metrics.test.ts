import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  auroc,
  binomialCdf,
  bootstrapCi,
  bootstrapCiStratified,
  fprUpperBound,
  logGamma,
  minHumanForFpr,
  operatingPoint,
  rocCurve,
  take,
  thresholdAtFpr,
  tprAtFpr,
} from '../../src/detect/metrics.js';
import { gaussian, mulberry32 } from '../../src/random.js';
import { UsageError } from '../../src/errors.js';

/** Scores from a small set of values, so ties are common. */
const labelled = fc
  .array(fc.tuple(fc.integer({ min: -5, max: 5 }), fc.constantFrom<0 | 1>(0, 1)), { minLength: 2, maxLength: 60 })
  .filter((xs) => xs.some(([, l]) => l === 0) && xs.some(([, l]) => l === 1))
  .map((xs) => ({ scores: xs.map(([s]) => s / 2), labels: xs.map(([, l]) => l) }));

/** P(S > H) + ½ P(S = H) over all pairs. */
function bruteAuroc(scores: number[], labels: (0 | 1)[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((s, i) => {
    if (labels[i] !== 1) return;
    scores.forEach((h, j) => {
      if (labels[j] !== 0) return;
      pairs++;
      wins += s > h ? 1 : s === h ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

describe('auroc', () => {
  it('matches hand-counted pairs, with ties as one half', () => {
    expect(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(auroc([1, 1], [0, 1])).toBe(0.5);
    expect(auroc([1, 2, 2, 3], [0, 1, 0, 1])).toBe(0.875); // (1 + ½ + 1 + 1) / 4
  });

  it('equals the O(n²) pair count and the trapezoid area under rocCurve', () => {
    fc.assert(
      fc.property(labelled, ({ scores, labels }) => {
        const a = auroc(scores, labels);
        expect(a).toBeCloseTo(bruteAuroc(scores, labels), 12);
        const roc = rocCurve(scores, labels);
        let area = 0;
        for (let i = 1; i < roc.length; i++) {
          const p = roc[i - 1]!;
          const q = roc[i]!;
          area += ((q.fpr - p.fpr) * (q.tpr + p.tpr)) / 2;
        }
        expect(area).toBeCloseTo(a, 12);
        expect(auroc(scores.map((s) => -s), labels)).toBeCloseTo(1 - a, 12);
      }),
    );
  });

  it('throws when a class is empty or a score is NaN', () => {
    expect(() => auroc([1, 2], [1, 1])).toThrow(UsageError);
    expect(() => auroc([], [])).toThrow(UsageError);
    expect(() => auroc([NaN, 1], [0, 1])).toThrow(UsageError);
  });
});

describe('rocCurve', () => {
  it('lists (fpr, tpr) of "score > t" for every distinct score, then −∞', () => {
    expect(rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toEqual([
      { fpr: 0, tpr: 0, threshold: 0.8 },
      { fpr: 0, tpr: 0.5, threshold: 0.4 },
      { fpr: 0.5, tpr: 0.5, threshold: 0.35 },
      { fpr: 0.5, tpr: 1, threshold: 0.1 },
      { fpr: 1, tpr: 1, threshold: -Infinity },
    ]);
  });

  it('every point is the rate of scores strictly above its threshold', () => {
    fc.assert(
      fc.property(labelled, ({ scores, labels }) => {
        const nPos = labels.filter((l) => l === 1).length;
        for (const p of rocCurve(scores, labels)) {
          const above = (cls: 0 | 1) => scores.filter((s, i) => labels[i] === cls && s > p.threshold).length;
          expect(p.tpr).toBe(above(1) / nPos);
          expect(p.fpr).toBe(above(0) / (labels.length - nPos));
        }
      }),
    );
  });
});

describe('thresholdAtFpr', () => {
  it('picks the smallest human score with #(h > t)/n <= target', () => {
    const h = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(thresholdAtFpr(h, 0.1)).toEqual({ threshold: 9, fpr: 0.1, flagged: 1, n: 10 });
    expect(thresholdAtFpr(h, 0.15)).toEqual({ threshold: 9, fpr: 0.1, flagged: 1, n: 10 });
    expect(thresholdAtFpr(h, 0)).toEqual({ threshold: 10, fpr: 0, flagged: 0, n: 10 });
    expect(thresholdAtFpr(h, 1).threshold).toBe(1);
    // Ties: with t = 2 only the 3 is above; t = 1 would flag 4 of 5.
    expect(thresholdAtFpr([2, 3, 2, 1, 2], 0.4)).toEqual({ threshold: 2, fpr: 0.2, flagged: 1, n: 5 });
  });

  it('is exact at float-unfriendly targets (29/100 is 0.29)', () => {
    const h = Array.from({ length: 100 }, (_, i) => i);
    expect(thresholdAtFpr(h, 0.29)).toEqual({ threshold: 70, fpr: 0.29, flagged: 29, n: 100 });
    expect(thresholdAtFpr(h, 0.07).flagged).toBe(7);
  });

  it('agrees with a brute-force search over the human scores', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 40 }), fc.double({ min: 0, max: 1, noNaN: true }), (h, target) => {
        const rate = (t: number) => h.filter((x) => x > t).length / h.length;
        const expected = Math.min(...h.filter((t) => rate(t) <= target));
        const r = thresholdAtFpr(h, target);
        expect(r.threshold).toBe(expected);
        expect(r.fpr).toBe(rate(expected));
        expect(r.flagged).toBe(h.filter((x) => x > expected).length);
      }),
    );
  });

  it('rejects empty input, NaN and negative targets', () => {
    expect(() => thresholdAtFpr([], 0.1)).toThrow(UsageError);
    expect(() => thresholdAtFpr([1, NaN], 0.1)).toThrow(UsageError);
    expect(() => thresholdAtFpr([1], -0.1)).toThrow(UsageError);
  });
});

describe('tprAtFpr / operatingPoint', () => {
  it('sets the threshold on the human scores and counts synthetic scores strictly above it', () => {
    const scores = [1, 2, 3, 4, 5, 3, 4, 5, 6, 5.5];
    const labels: (0 | 1)[] = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
    // 20% FPR: t = 4 (only the human 5 is above); synthetic above 4: 5, 6, 5.5.
    expect(operatingPoint(scores, labels, 0.2)).toEqual({ threshold: 4, fpr: 0.2, fp: 1, nHuman: 5, tpr: 0.6, tp: 3, nSynthetic: 5 });
    expect(tprAtFpr(scores, labels, 0)).toBe(0.4); // t = 5: 6 and 5.5
  });
});

describe('binomialCdf', () => {
  it('matches a direct float sum for small n', () => {
    const direct = (k: number, n: number, p: number) => {
      let s = 0;
      let c = 1; // C(n, j)
      for (let j = 0; j <= k; j++) {
        s += c * p ** j * (1 - p) ** (n - j);
        c = (c * (n - j)) / (j + 1);
      }
      return s;
    };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 60 }), fc.double({ min: 0.001, max: 0.999, noNaN: true }), (n, k, p) => {
        const kk = Math.min(k, n);
        expect(binomialCdf(kk, n, p)).toBeCloseTo(direct(kk, n, p), 12);
      }),
    );
  });

  it('matches scipy.stats.binom.cdf at n = 1e6', () => {
    expect(binomialCdf(3000, 1_000_000, 0.003)).toBeCloseTo(0.5048555694679442, 7);
    expect(binomialCdf(290_000, 1_000_000, 0.29)).toBeCloseTo(0.5005011371027046, 7);
    expect(binomialCdf(5, 1_000_000, 1e-5)).toBeCloseTo(0.06708501704958428, 7);
  });

  it('handles the edges', () => {
    expect(binomialCdf(-1, 5, 0.5)).toBe(0);
    expect(binomialCdf(5, 5, 0.5)).toBe(1);
    expect(binomialCdf(0, 5, 0)).toBe(1);
    expect(binomialCdf(4, 5, 1)).toBe(0);
    expect(binomialCdf(0, 3, 0.5)).toBeCloseTo(0.125, 15);
  });

  it('logGamma is log((x−1)!) on integers and log √π at ½', () => {
    let f = 0;
    for (let n = 1; n <= 30; n++) {
      expect(logGamma(n)).toBeCloseTo(f, 10);
      f += Math.log(n);
    }
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
  });
});

describe('fprUpperBound', () => {
  it('matches the Clopper–Pearson beta quantile (scipy.stats.beta.ppf(c, k + 1, n − k))', () => {
    expect(fprUpperBound(1, 10)).toBeCloseTo(0.39416330243650466, 10);
    expect(fprUpperBound(5, 101)).toBeCloseTo(0.10126897166065246, 10);
    expect(fprUpperBound(30, 5000)).toBeCloseTo(0.008129395416300955, 10);
    expect(fprUpperBound(1000, 1_000_000) / 0.0010535748774544362).toBeCloseTo(1, 6);
    expect(fprUpperBound(50, 1_000_000, 0.99) / 6.906657711045261e-5).toBeCloseTo(1, 6);
  });

  it('solves P(X <= k; n, ub) = 1 − c, with the k = 0 and k = n closed forms', () => {
    for (const [k, n] of [[0, 20], [3, 20], [7, 250], [19, 20]] as const) {
      expect(binomialCdf(k, n, fprUpperBound(k, n))).toBeCloseTo(0.05, 12);
    }
    expect(fprUpperBound(0, 100)).toBeCloseTo(1 - 0.05 ** (1 / 100), 15);
    expect(fprUpperBound(0, 1_000_000) * 1_000_000).toBeCloseTo(-Math.log(0.05), 4); // the rule of three
    expect(fprUpperBound(20, 20)).toBe(1);
  });

  it('rejects impossible counts', () => {
    expect(() => fprUpperBound(3, 2)).toThrow(UsageError);
    expect(() => fprUpperBound(0, 0)).toThrow(UsageError);
    expect(() => fprUpperBound(1.5, 10)).toThrow(UsageError);
  });
});

describe('minHumanForFpr', () => {
  it('is the smallest n whose zero-false-positive bound reaches the target (≈ 3 / target at 95%)', () => {
    expect(minHumanForFpr(0.01)).toBe(299); // ln 0.05 / ln 0.99 = 298.07
    expect(minHumanForFpr(0.001)).toBe(2995); // 2994.23
    expect(minHumanForFpr(0.01, 0.99)).toBe(459); // ln 0.01 / ln 0.99 = 458.21
    for (const target of [0.2, 0.05, 0.013, 1e-4]) {
      const n = minHumanForFpr(target);
      expect(fprUpperBound(0, n)).toBeLessThanOrEqual(target);
      expect(fprUpperBound(0, n - 1)).toBeGreaterThan(target);
      expect(n).toBeLessThanOrEqual(Math.ceil(3 / target));
    }
  });
});

describe('bootstrap', () => {
  const rng = mulberry32(42);
  const sample = Array.from({ length: 400 }, () => gaussian(rng));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  it('mulberry32 is deterministic and in [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    for (let i = 0; i < 1000; i++) {
      const x = a();
      expect(x).toBe(b());
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  it('percentile CI of a mean is about ±1.96 standard errors, and reproducible', () => {
    const m = mean(sample);
    const sd = Math.sqrt(mean(sample.map((x) => (x - m) ** 2)));
    const stat = (idx: Int32Array) => mean(take(sample, idx));
    const ci = bootstrapCi(stat, sample.length, { seed: 3 });
    expect(ci.lo).toBeLessThan(m);
    expect(ci.hi).toBeGreaterThan(m);
    expect((ci.hi - ci.lo) / ((2 * 1.96 * sd) / Math.sqrt(sample.length))).toBeGreaterThan(0.85);
    expect((ci.hi - ci.lo) / ((2 * 1.96 * sd) / Math.sqrt(sample.length))).toBeLessThan(1.15);
    expect(bootstrapCi(stat, sample.length, { seed: 3 })).toEqual(ci);
    const narrow = bootstrapCi(stat, sample.length, { seed: 3, confidence: 0.5 });
    expect(narrow.hi - narrow.lo).toBeLessThan(ci.hi - ci.lo);
  });

  it('stratified resamples keep each class size, so AUROC is always defined', () => {
    const labels: (0 | 1)[] = sample.map((_, i) => (i < 390 ? 0 : 1)); // only 10 synthetic
    const scores = sample.map((x, i) => x + (labels[i] === 1 ? 1 : 0));
    const seen: number[] = [];
    const ci = bootstrapCiStratified(
      (idx) => {
        const l = take(labels, idx);
        seen.push(l.filter((v) => v === 1).length);
        return auroc(take(scores, idx), l);
      },
      labels,
      { resamples: 300, seed: 5 },
    );
    expect(new Set(seen)).toEqual(new Set([10]));
    const a = auroc(scores, labels);
    expect(ci.lo).toBeLessThan(a);
    expect(ci.hi).toBeGreaterThan(a);
    expect(ci.hi).toBeLessThanOrEqual(1);
  });
});
