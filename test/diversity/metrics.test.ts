/** Diversity metrics on hand-checked and brute-force references. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compressionRatio,
  corpusDiversity,
  distinctN,
  meanCosineDistance,
  selfBleu,
  vendiScore,
} from '../../src/diversity/metrics.js';
import { bootstrapSe } from '../../src/stats/bootstrap.js';
import { symmetricEigenvalues } from '../../src/stats/symmetric-eigen.js';

/** Self-BLEU-4 the plain way: for each document, max counts over each other document recomputed. */
function naiveSelfBleu(docs: string[][]): number {
  const grams = (d: string[], n: number) => {
    const m = new Map<string, number>();
    for (let i = 0; i + n <= d.length; i++)
      m.set(d.slice(i, i + n).join(' '), (m.get(d.slice(i, i + n).join(' ')) ?? 0) + 1);
    return m;
  };
  let sum = 0;
  docs.forEach((h, hi) => {
    let logP = 0;
    for (let n = 1; n <= 4; n++) {
      const hc = grams(h, n);
      let clipped = 0,
        total = 0;
      for (const [g, k] of hc) {
        let mx = 0;
        docs.forEach((r, ri) => {
          if (ri !== hi) mx = Math.max(mx, grams(r, n).get(g) ?? 0);
        });
        clipped += Math.min(k, mx);
        total += k;
      }
      const p = n === 1 ? (total ? clipped / total : 0) : (clipped + 1) / (total + 1);
      logP += Math.log(Math.max(p, 1e-12)) / 4;
    }
    const others = docs.filter((_, i) => i !== hi).map((d) => d.length);
    const r = others.reduce((best, l) => (Math.abs(l - h.length) < Math.abs(best - h.length) ? l : best), Infinity);
    const bp = h.length === 0 ? 0 : h.length >= r ? 1 : Math.exp(1 - r / h.length);
    sum += bp * Math.exp(logP);
  });
  return sum / docs.length;
}

describe('diversity metrics', () => {
  it('distinct-n by hand: "a b a b" → distinct-1 2/4, distinct-2 2/3; n-grams do not cross documents', () => {
    expect(distinctN([['a', 'b', 'a', 'b']], 1)).toBe(0.5);
    expect(distinctN([['a', 'b', 'a', 'b']], 2)).toBeCloseTo(2 / 3, 15);
    expect(
      distinctN(
        [
          ['a', 'b'],
          ['c', 'd'],
        ],
        2,
      ),
    ).toBe(1); // no "b c" bigram
  });

  it('compression: a repetitive corpus compresses far better than a varied one', () => {
    const same = Array.from({ length: 50 }, () => 'The model said the same thing again.');
    const varied = Array.from(
      { length: 50 },
      (_, i) => `Document ${i} talks about ${(i * 7919).toString(36)} and ${(i * 104729).toString(36)} things.`,
    );
    expect(compressionRatio(same)).toBeLessThan(0.1);
    expect(compressionRatio(varied)).toBeGreaterThan(2 * compressionRatio(same));
  });

  it('self-BLEU: 1 for identical documents, near 0 for disjoint ones, equal to the plain computation', () => {
    expect(
      selfBleu([
        ['x', 'y', 'z', 'w'],
        ['x', 'y', 'z', 'w'],
      ]),
    ).toBeCloseTo(1, 12);
    expect(
      selfBleu([
        ['a', 'b', 'c', 'd'],
        ['e', 'f', 'g', 'h'],
      ]),
    ).toBeLessThan(0.01);
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 12 }), {
          minLength: 2,
          maxLength: 6,
        }),
        (docs) => {
          expect(selfBleu(docs)).toBeCloseTo(naiveSelfBleu(docs), 10);
        },
      ),
      { numRuns: 100, seed: 5 },
    );
  });

  it('Jacobi eigenvalues: [[2,1],[1,2]] → {1, 3}', () => {
    const ev = Array.from(symmetricEigenvalues(Float64Array.from([2, 1, 1, 2]), 2)).sort();
    expect(ev[0]).toBeCloseTo(1, 12);
    expect(ev[1]).toBeCloseTo(3, 12);
  });

  it('Vendi: m identical rows → 1; m orthonormal rows → m', () => {
    const d = 8;
    const same = new Float32Array(5 * d);
    for (let i = 0; i < 5; i++) same[i * d] = 1;
    expect(vendiScore(same, d, [0, 1, 2, 3, 4])).toBeCloseTo(1, 9);
    const ortho = new Float32Array(6 * d);
    for (let i = 0; i < 6; i++) ortho[i * d + i] = 1;
    expect(vendiScore(ortho, d, [0, 1, 2, 3, 4, 5])).toBeCloseTo(6, 9);
  });

  it('mean cosine distance equals the all-pairs average', () => {
    const d = 4;
    const rows = [
      [1, 0, 0, 0],
      [0.6, 0.8, 0, 0],
      [0, 0, 1, 0],
      [0, 0.6, 0, 0.8],
    ];
    const data = Float32Array.from(rows.flat());
    let s = 0,
      n = 0;
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++)
        if (i !== j) {
          s += 1 - rows[i]!.reduce((a, v, t) => a + v * rows[j]![t]!, 0);
          n++;
        }
    expect(meanCosineDistance(data, d)).toBeCloseTo(s / n, 6);
  });

  it('corpusDiversity: a collapsed corpus scores lower on every axis than a varied one', () => {
    const d = 6;
    const mk = (n: number, collapsed: boolean) => {
      const texts = Array.from({ length: n }, (_, i) =>
        collapsed ? 'the cat sat on the mat again' : `doc ${i} word${i} other${i * 3} thing${i * 7} here`,
      );
      const data = new Float32Array(n * d);
      for (let i = 0; i < n; i++) {
        const k = collapsed ? 0 : i % d;
        data[i * d + k] = 1;
      }
      return corpusDiversity(texts, { data, dim: d }, { bleuSample: 40, vendiSample: 40 });
    };
    const varied = mk(60, false);
    const collapsed = mk(60, true);
    expect(collapsed.distinct[2]).toBeLessThan(varied.distinct[2]);
    expect(collapsed.self_bleu).toBeGreaterThan(varied.self_bleu);
    expect(collapsed.vendi).toBeCloseTo(1, 6);
    expect(varied.vendi).toBeGreaterThan(5);
    expect(collapsed.mean_cosine_distance).toBeCloseTo(0, 6);
    expect(varied.vendi_ci.lo).toBeLessThanOrEqual(varied.vendi_ci.hi);
    // The interval brackets the score: ±1.96 bootstrap standard errors, centred on it (a resample's repeated rows
    // lower the score, which would shift a percentile interval down).
    expect(varied.vendi_ci.lo).toBeLessThan(varied.vendi);
    expect(varied.vendi_ci.hi).toBeGreaterThan(varied.vendi);
    expect((varied.vendi_ci.lo + varied.vendi_ci.hi) / 2).toBeCloseTo(varied.vendi, 9);
    expect(collapsed.vendi_ci.hi - collapsed.vendi_ci.lo).toBeCloseTo(0, 6);
  });

  it('bootstrapSe is the sample sd of the statistic over seeded resamples', () => {
    const x = [3, 1, 4, 1, 5, 9, 2, 6];
    const mean = (idx: Int32Array) => Array.from(idx, (i) => x[i]!).reduce((a, b) => a + b, 0) / idx.length;
    const se = bootstrapSe(mean, x.length, { resamples: 4000, seed: 7 });
    // The bootstrap se of a mean tends to the plug-in sd / √n.
    const m = x.reduce((a, b) => a + b, 0) / x.length;
    const plugIn = Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length / x.length);
    expect(Math.abs(se - plugIn) / plugIn).toBeLessThan(0.05);
    expect(bootstrapSe(() => 2, 5, { resamples: 10 })).toBe(0);
  });
});
