/** The percentile bootstrap: width against the normal approximation, reproducibility, stratification. */
import { describe, expect, it } from 'vitest';
import { auroc } from '../../src/detect/metrics.js';
import { gaussian, mulberry32 } from '../../src/random.js';
import { bootstrapCi, bootstrapCiStratified, take } from '../../src/stats/index.js';

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
