import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auroc, minHumanForFpr, operatingPoint, rocCurve, thresholdAtFpr, tprAtFpr } from '../../src/detect/metrics.js';
import { UsageError } from '../../src/errors.js';
import { binomialUpperBound } from '../../src/stats/index.js';

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
        expect(
          auroc(
            scores.map((s) => -s),
            labels,
          ),
        ).toBeCloseTo(1 - a, 12);
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
      fc.property(
        fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 40 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (h, target) => {
          const rate = (t: number) => h.filter((x) => x > t).length / h.length;
          const expected = Math.min(...h.filter((t) => rate(t) <= target));
          const r = thresholdAtFpr(h, target);
          expect(r.threshold).toBe(expected);
          expect(r.fpr).toBe(rate(expected));
          expect(r.flagged).toBe(h.filter((x) => x > expected).length);
        },
      ),
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
    expect(operatingPoint(scores, labels, 0.2)).toEqual({
      threshold: 4,
      fpr: 0.2,
      fp: 1,
      nHuman: 5,
      tpr: 0.6,
      tp: 3,
      nSynthetic: 5,
    });
    expect(tprAtFpr(scores, labels, 0)).toBe(0.4); // t = 5: 6 and 5.5
  });
});

describe('minHumanForFpr', () => {
  it('is the smallest n whose zero-false-positive bound reaches the target (≈ 3 / target at 95%)', () => {
    expect(minHumanForFpr(0.01)).toBe(299); // ln 0.05 / ln 0.99 = 298.07
    expect(minHumanForFpr(0.001)).toBe(2995); // 2994.23
    expect(minHumanForFpr(0.01, 0.99)).toBe(459); // ln 0.01 / ln 0.99 = 458.21
    for (const target of [0.2, 0.05, 0.013, 1e-4]) {
      const n = minHumanForFpr(target);
      expect(binomialUpperBound(0, n)).toBeLessThanOrEqual(target);
      expect(binomialUpperBound(0, n - 1)).toBeGreaterThan(target);
      expect(n).toBeLessThanOrEqual(Math.ceil(3 / target));
    }
  });
});
