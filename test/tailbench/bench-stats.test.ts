/**
 * The tail benchmark's numbers on hand-built documents: per-region means and intervals, the tail and head means with
 * their stratified standard errors, and the gap with its bootstrap interval, against hand computations and an
 * independent recount; the strata bootstrap keeps each stratum's size; Φ at known points.
 */
import { describe, expect, it } from 'vitest';
import { gaussian, mulberry32 } from '../../src/random.js';
import { bootstrapCiByStrata, confidenceOfZ, normalCdf } from '../../src/stats/index.js';
import { benchStats } from '../../src/tailbench/bench-stats.js';

describe('benchStats on hand-built documents', () => {
  // Region 0 (tail): 1, 2, 3; region 1 (head): 4, 6; region 2 (tail): 10 alone; region 3: no documents.
  const values = [1, 4, 2, 10, 6, 3];
  const regions = [0, 1, 0, 2, 1, 0];
  const s = benchStats(values, regions, 4, new Set([0, 2]), { z: 2 });

  it('per region: mean, mean ± z·s/√n, nothing for one document or none', () => {
    // Region 0: mean 2, s² = 1, se = 1/√3; region 1: mean 5, s² = 2, se = 1.
    expect(s.regions[0]!.docs).toBe(3);
    expect(s.regions[0]!.mean).toBeCloseTo(2, 14);
    expect(s.regions[0]!.se).toBeCloseTo(1 / Math.sqrt(3), 14);
    expect(s.regions[0]!.lo).toBeCloseTo(2 - 2 / Math.sqrt(3), 14);
    expect(s.regions[0]!.hi).toBeCloseTo(2 + 2 / Math.sqrt(3), 14);
    expect(s.regions[1]).toMatchObject({ docs: 2, mean: 5, se: 1, lo: 3, hi: 7 });
    expect(s.regions[2]).toEqual({ docs: 1, mean: 10, se: null, lo: null, hi: null });
    expect(s.regions[3]).toEqual({ docs: 0, mean: null, se: null, lo: null, hi: null });
  });

  it('tail and head: pooled means, SE² = Σ n_c s_c² / N²; the gap tail − head', () => {
    // Tail: (1 + 2 + 3 + 10) / 4 = 4, SE = √(3 · 1 + 0) / 4; head: 5, SE = √(2 · 2) / 2 = 1.
    expect(s.tail!.docs).toBe(4);
    expect(s.tail!.mean).toBeCloseTo(4, 14);
    expect(s.tail!.se).toBeCloseTo(Math.sqrt(3) / 4, 14);
    expect(s.tail!.lo).toBeCloseTo(4 - Math.sqrt(3) / 2, 14);
    expect(s.head).toMatchObject({ docs: 2, mean: 5, se: 1, lo: 3, hi: 7 });
    expect(s.gap!.value).toBeCloseTo(-1, 14);
    // Resampling within regions: the tail mean lies in [(3·1 + 10)/4, (3·3 + 10)/4], the head's in [4, 6].
    expect(s.gap!.lo).toBeGreaterThanOrEqual(3.25 - 6);
    expect(s.gap!.hi).toBeLessThanOrEqual(4.75 - 4);
    expect(s.gap!.lo).toBeLessThan(-1);
    expect(s.gap!.hi).toBeGreaterThan(-1);
  });

  it('no tail: no tail, no gap; every region a tail: no head', () => {
    const none = benchStats(values, regions, 4, new Set(), { z: 2 });
    expect(none.tail).toBeNull();
    expect(none.gap).toBeNull();
    expect(none.head!.mean).toBeCloseTo(26 / 6, 14);
    const all = benchStats(values, regions, 4, new Set([0, 1, 2, 3]), { z: 2 });
    expect(all.head).toBeNull();
    expect(all.gap).toBeNull();
  });
});

describe('benchStats against an independent recount', () => {
  const rng = mulberry32(7);
  const k = 4;
  const sizes = [300, 250, 200, 350];
  const values: number[] = [];
  const regions: number[] = [];
  for (let c = 0; c < k; c++)
    for (let i = 0; i < sizes[c]!; i++) {
      values.push(2 + 0.3 * c + (0.2 + 0.1 * c) * gaussian(rng));
      regions.push(c);
    }
  // Shuffle so regions interleave.
  const order = values.map((_, i) => i).sort(() => rng() - 0.5);
  const v = order.map((i) => values[i]!);
  const r = order.map((i) => regions[i]!);
  const tails = new Set([1, 3]);
  const s = benchStats(v, r, k, tails, { z: 1.96 });

  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
  const sampleVar = (xs: number[]) => {
    const m = mean(xs);
    return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
  };
  const of = (pred: (c: number) => boolean) => v.filter((_, i) => pred(r[i]!));

  it('per-region means and standard errors by a two-pass recount', () => {
    for (let c = 0; c < k; c++) {
      const xs = of((x) => x === c);
      expect(s.regions[c]!.docs).toBe(sizes[c]);
      expect(s.regions[c]!.mean).toBeCloseTo(mean(xs), 12);
      expect(s.regions[c]!.se).toBeCloseTo(Math.sqrt(sampleVar(xs) / xs.length), 12);
    }
  });

  it('tail, head and gap means; the gap interval ≈ gap ± 1.96·√(se_t² + se_h²)', () => {
    const t = of((c) => tails.has(c));
    const h = of((c) => !tails.has(c));
    expect(s.tail!.mean).toBeCloseTo(mean(t), 12);
    expect(s.head!.mean).toBeCloseTo(mean(h), 12);
    expect(s.gap!.value).toBeCloseTo(mean(t) - mean(h), 12);
    const strat = (cs: number[]) =>
      Math.sqrt(cs.reduce((a, c) => a + sizes[c]! * sampleVar(of((x) => x === c)), 0)) /
      cs.reduce((a, c) => a + sizes[c]!, 0);
    expect(s.tail!.se).toBeCloseTo(strat([1, 3]), 12);
    expect(s.head!.se).toBeCloseTo(strat([0, 2]), 12);
    const half = 1.96 * Math.hypot(s.tail!.se!, s.head!.se!);
    expect((s.gap!.hi - s.gap!.lo) / (2 * half)).toBeGreaterThan(0.9);
    expect((s.gap!.hi - s.gap!.lo) / (2 * half)).toBeLessThan(1.1);
    // A smaller z, a narrower interval.
    const narrow = benchStats(v, r, k, tails, { z: 1 }).gap!;
    expect(narrow.hi - narrow.lo).toBeLessThan(s.gap!.hi - s.gap!.lo);
  });
});

describe('bootstrapCiByStrata and Φ', () => {
  it('keeps each stratum its size in every resample', () => {
    const strata = [5, 2, 5, 5, 9, 2];
    const ci = bootstrapCiByStrata((idx) => Array.from(idx).filter((i) => strata[i] === 5).length, strata, {
      resamples: 200,
    });
    expect(ci).toEqual({ lo: 3, hi: 3 });
  });
  it('Φ(1.96) = 0.9750021, Φ(0) = 1/2, Φ(−1) = 0.1586553; 2Φ(1.96) − 1 ≈ 0.95', () => {
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021, 6);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(-1)).toBeCloseTo(0.1586553, 6);
    expect(confidenceOfZ(1.96)).toBeCloseTo(0.95, 4);
  });
});
