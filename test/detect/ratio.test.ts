import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/random.js';
import { estimateSyntheticShare, roganGladen, sampleBinomial } from '../../src/detect/ratio.js';
import { UsageError } from '../../src/errors.js';

/** Independent simulation: a count of Bernoulli(p) successes from a xorshift32 stream (not mulberry32). */
function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}
function bernoulliCount(rng: () => number, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (rng() < p) k++;
  return k;
}

describe('estimateSyntheticShare', () => {
  it('point estimate on hand numbers: q = 0.3, TPR 0.8, FPR 0.05 → share 1/3, ratio 1/2', () => {
    const r = estimateSyntheticShare(300, 1000, { k: 80, n: 100 }, { k: 5, n: 100 });
    expect(r.observedShare).toBe(0.3);
    expect(r.share).toBeCloseTo(1 / 3, 14);
    expect(r.ratio).toBeCloseTo(0.5, 14);
    expect(r.identifiable).toBe(true);
    expect(r.shareLo).toBeLessThan(r.share);
    expect(r.shareHi).toBeGreaterThan(r.share);
    expect(r.ratioLo).toBeCloseTo(r.shareLo / (1 - r.shareLo), 14);
    expect(r.ratioHi).toBeCloseTo(r.shareHi / (1 - r.shareHi), 14);
  });

  it('clips to [0, 1]; share 1 is an infinite ratio', () => {
    expect(roganGladen(0.01, 0.8, 0.05)).toBe(0);
    const all = estimateSyntheticShare(95, 100, { k: 90, n: 100 }, { k: 5, n: 100 });
    expect(all.share).toBe(1);
    expect(all.ratio).toBe(Infinity);
    expect(all.ratioHi).toBe(Infinity);
  });

  it('is not identifiable when TPR − FPR <= 0.05: the interval is [0, 1]', () => {
    const r = estimateSyntheticShare(30, 100, { k: 34, n: 100 }, { k: 30, n: 100 });
    expect(r.identifiable).toBe(false);
    expect([r.shareLo, r.shareHi]).toEqual([0, 1]);
    expect([r.ratioLo, r.ratioHi]).toEqual([0, Infinity]);
    expect(estimateSyntheticShare(30, 100, { k: 10, n: 100 }, { k: 30, n: 100 }).share).toBeNaN();
  });

  it('covers the true share in >= 90% of simulated experiments', () => {
    const truth = 0.2;
    const [tpr, fpr, nDocs, nCal] = [0.7, 0.05, 2000, 400];
    const rng = xorshift(2024);
    let covered = 0;
    for (let e = 0; e < 200; e++) {
      const flagged = bernoulliCount(rng, nDocs, truth * tpr + (1 - truth) * fpr);
      const r = estimateSyntheticShare(
        flagged,
        nDocs,
        { k: bernoulliCount(rng, nCal, tpr), n: nCal },
        { k: bernoulliCount(rng, nCal, fpr), n: nCal },
        { seed: e },
      );
      if (r.shareLo <= truth && truth <= r.shareHi) covered++;
    }
    expect(covered / 200).toBeGreaterThanOrEqual(0.9);
  });

  it('widens when the calibration sets are smaller', () => {
    const big = estimateSyntheticShare(360, 2000, { k: 280, n: 400 }, { k: 20, n: 400 });
    const small = estimateSyntheticShare(360, 2000, { k: 35, n: 50 }, { k: 3, n: 60 });
    expect(small.share).toBeCloseTo(big.share, 1);
    expect(small.shareHi - small.shareLo).toBeGreaterThan(1.5 * (big.shareHi - big.shareLo));
  });

  it('is reproducible by seed and rejects impossible counts', () => {
    const a = estimateSyntheticShare(300, 1000, { k: 80, n: 100 }, { k: 5, n: 100 }, { seed: 9 });
    expect(estimateSyntheticShare(300, 1000, { k: 80, n: 100 }, { k: 5, n: 100 }, { seed: 9 })).toEqual(a);
    expect(() => estimateSyntheticShare(11, 10, { k: 1, n: 2 }, { k: 0, n: 2 })).toThrow(UsageError);
    expect(() => estimateSyntheticShare(1, 10, { k: 1, n: 0 }, { k: 0, n: 2 })).toThrow(UsageError);
  });
});

describe('sampleBinomial', () => {
  it('has the binomial mean and variance, including large n', () => {
    const rng = mulberry32(3);
    for (const [n, p] of [
      [10, 0.3],
      [1, 0.5],
      [500, 0.02],
      [1_000_000, 0.3],
    ] as const) {
      const draws = Array.from({ length: 4000 }, () => sampleBinomial(rng, n, p));
      expect(draws.every((k) => Number.isInteger(k) && k >= 0 && k <= n)).toBe(true);
      const m = draws.reduce((a, b) => a + b, 0) / draws.length;
      const v = draws.reduce((a, b) => a + (b - m) ** 2, 0) / (draws.length - 1);
      const sd = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(m - n * p)).toBeLessThan((4 * sd) / Math.sqrt(draws.length));
      expect(v / (sd * sd)).toBeGreaterThan(0.9);
      expect(v / (sd * sd)).toBeLessThan(1.1);
    }
  });

  it('matches the exact pmf on a small case (chi-square)', () => {
    const rng = mulberry32(8);
    const [n, p, draws] = [6, 0.35, 60_000];
    const counts = new Array<number>(n + 1).fill(0);
    for (let i = 0; i < draws; i++) counts[sampleBinomial(rng, n, p)]!++;
    let c = 1;
    let chi2 = 0;
    for (let k = 0; k <= n; k++) {
      const expected = draws * c * p ** k * (1 - p) ** (n - k);
      chi2 += (counts[k]! - expected) ** 2 / expected;
      c = (c * (n - k)) / (k + 1);
    }
    expect(chi2).toBeLessThan(22.5); // χ²(6) 99.9th percentile
    expect(sampleBinomial(rng, 5, 0)).toBe(0);
    expect(sampleBinomial(rng, 5, 1)).toBe(5);
  });
});
