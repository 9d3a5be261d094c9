/** Binomial tails and Clopper–Pearson bounds against direct sums and published values. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { binomialCdf, binomialUpperBound, logGamma } from '../../src/stats/index.js';

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
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 60 }),
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        (n, k, p) => {
          const kk = Math.min(k, n);
          expect(binomialCdf(kk, n, p)).toBeCloseTo(direct(kk, n, p), 12);
        },
      ),
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

describe('binomialUpperBound', () => {
  it('matches the Clopper–Pearson beta quantile (scipy.stats.beta.ppf(c, k + 1, n − k))', () => {
    expect(binomialUpperBound(1, 10)).toBeCloseTo(0.39416330243650466, 10);
    expect(binomialUpperBound(5, 101)).toBeCloseTo(0.10126897166065246, 10);
    expect(binomialUpperBound(30, 5000)).toBeCloseTo(0.008129395416300955, 10);
    expect(binomialUpperBound(1000, 1_000_000) / 0.0010535748774544362).toBeCloseTo(1, 6);
    expect(binomialUpperBound(50, 1_000_000, 0.99) / 6.906657711045261e-5).toBeCloseTo(1, 6);
  });

  it('solves P(X <= k; n, ub) = 1 − c, with the k = 0 and k = n closed forms', () => {
    for (const [k, n] of [
      [0, 20],
      [3, 20],
      [7, 250],
      [19, 20],
    ] as const) {
      expect(binomialCdf(k, n, binomialUpperBound(k, n))).toBeCloseTo(0.05, 12);
    }
    expect(binomialUpperBound(0, 100)).toBeCloseTo(1 - 0.05 ** (1 / 100), 15);
    expect(binomialUpperBound(0, 1_000_000) * 1_000_000).toBeCloseTo(-Math.log(0.05), 4); // the rule of three
    expect(binomialUpperBound(20, 20)).toBe(1);
  });

  it('rejects impossible counts', () => {
    expect(() => binomialUpperBound(3, 2)).toThrow(UsageError);
    expect(() => binomialUpperBound(0, 0)).toThrow(UsageError);
    expect(() => binomialUpperBound(1.5, 10)).toThrow(UsageError);
  });
});
