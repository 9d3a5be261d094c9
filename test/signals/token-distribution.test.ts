/**
 * The per-token distribution signals (src/signals/token-distribution.ts): hand-checked values, a property test
 * against a naive implementation, and a scored stories260k row against the float64 reference forward pass.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scoreCorpus } from '../../src/score/score-corpus.js';
import {
  TOKEN_DISTRIBUTION_FIELDS,
  tokenDistribution,
  type TokenDistribution,
} from '../../src/signals/token-distribution.js';
import { BOS_ID, Llama2cReference, Llama2cTokenizer, logSoftmax } from '../reference/llama2c.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'stories260k');
const MODEL = join(import.meta.dirname, '..', '..', 'models', 'stories260k');

/** Written apart from the implementation: counts by filter, quantiles by numpy's rule (as its weighted mean), population sds. */
function naive(logp: number[], entropy: number[], rank: number[]): TokenDistribution {
  const n = logp.length;
  const share = (k: number) => rank.filter((r) => r <= k).length / n;
  const quantile = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    const h = (s.length - 1) * p;
    const lo = Math.floor(h);
    const hi = Math.min(lo + 1, s.length - 1);
    return s[lo]! * (1 - (h - lo)) + s[hi]! * (h - lo);
  };
  const sd = (xs: number[]) => {
    const m = xs.reduce((a, b) => a + b, 0) / n;
    return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / n);
  };
  return {
    rank_top1: share(1),
    rank_top10: share(10),
    rank_top100: share(100),
    rank_top1000: share(1000),
    entropy_q10: quantile(entropy, 0.1),
    entropy_q50: quantile(entropy, 0.5),
    entropy_q90: quantile(entropy, 0.9),
    nll_sd: sd(logp.map((l) => -l)),
    entropy_sd: sd(entropy),
    surprise_sd: sd(logp.map((l, t) => -l - entropy[t]!)),
  };
}

describe('tokenDistribution', () => {
  it('hand-checked: four tokens', () => {
    // nll 1, 2, 3, 6; H 0.5, 1.5, 1, 3 (sorted 0.5, 1, 1.5, 3); ranks 1, 2, 11, 1001.
    const d = tokenDistribution([-1, -2, -3, -6], [0.5, 1.5, 1, 3], [1, 2, 11, 1001]);
    expect(d.rank_top1).toBe(0.25);
    expect(d.rank_top10).toBe(0.5);
    expect(d.rank_top100).toBe(0.75);
    expect(d.rank_top1000).toBe(0.75);
    // numpy.quantile: h = 3p → 0.3: 0.5 + 0.3·0.5; 1.5: 1 + 0.5·0.5; 2.7: 1.5 + 0.7·1.5
    expect(d.entropy_q10).toBeCloseTo(0.65, 12);
    expect(d.entropy_q50).toBeCloseTo(1.25, 12);
    expect(d.entropy_q90).toBeCloseTo(2.55, 12);
    // sd(1, 2, 3, 6) = sqrt(14/4); sd(H) = sqrt(3.5/4); nll − H = 0.5, 0.5, 2, 3 → sqrt(4.5/4)
    expect(d.nll_sd).toBeCloseTo(1.8708286933869707, 12);
    expect(d.entropy_sd).toBeCloseTo(0.9354143466934853, 12);
    expect(d.surprise_sd).toBeCloseTo(1.0606601717798212, 12);
  });

  it('hand-checked: five tokens, ranks on the bucket edges (inclusive)', () => {
    const d = tokenDistribution([-0.5, -0.5, -0.5, -0.5, -0.5], [2, 0.25, 0.75, 1, 4], [10, 100, 1000, 1, 1001]);
    expect([d.rank_top1, d.rank_top10, d.rank_top100, d.rank_top1000]).toEqual([0.2, 0.4, 0.6, 0.8]);
    // sorted 0.25, 0.75, 1, 2, 4; h = 4p → 0.4: 0.25 + 0.4·0.5; 2: 1; 3.6: 2 + 0.6·2
    expect(d.entropy_q10).toBeCloseTo(0.45, 12);
    expect(d.entropy_q50).toBe(1);
    expect(d.entropy_q90).toBeCloseTo(3.2, 12);
    expect(d.nll_sd).toBe(0);
    expect(d.entropy_sd).toBeCloseTo(d.surprise_sd, 12); // nll constant: nll − H spreads as H does
  });

  it('one token: every quantile is its entropy, every sd 0', () => {
    expect(tokenDistribution([-2], [0.7], [3])).toEqual({
      rank_top1: 0,
      rank_top10: 1,
      rank_top100: 1,
      rank_top1000: 1,
      entropy_q10: 0.7,
      entropy_q50: 0.7,
      entropy_q90: 0.7,
      nll_sd: 0,
      entropy_sd: 0,
      surprise_sd: 0,
    });
  });

  it('agrees with a naive implementation and keeps its orderings (property)', () => {
    const token = fc.record({
      logp: fc.double({ min: -30, max: 0, noNaN: true }),
      entropy: fc.double({ min: 0, max: 12, noNaN: true }),
      rank: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 5000 })),
    });
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 60 }), (tokens) => {
        const logp = tokens.map((t) => t.logp);
        const entropy = tokens.map((t) => t.entropy);
        const rank = tokens.map((t) => t.rank);
        const got = tokenDistribution(Float32Array.from(logp), Float32Array.from(entropy), Float32Array.from(rank));
        // Float32 inputs, as the engine hands them over.
        const want = naive([...Float32Array.from(logp)], [...Float32Array.from(entropy)], rank);
        expect(Object.keys(got)).toEqual([...TOKEN_DISTRIBUTION_FIELDS]);
        for (const f of TOKEN_DISTRIBUTION_FIELDS)
          expect(Math.abs(got[f] - want[f]), f).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[f])));
        expect(got.rank_top1).toBeLessThanOrEqual(got.rank_top10);
        expect(got.rank_top10).toBeLessThanOrEqual(got.rank_top100);
        expect(got.rank_top100).toBeLessThanOrEqual(got.rank_top1000);
        expect(got.rank_top1000).toBeLessThanOrEqual(1);
        expect(got.entropy_q10).toBeLessThanOrEqual(got.entropy_q50);
        expect(got.entropy_q50).toBeLessThanOrEqual(got.entropy_q90);
        expect(got.entropy_q10).toBeGreaterThanOrEqual(Math.min(...Float32Array.from(entropy)));
        expect(got.entropy_q90).toBeLessThanOrEqual(Math.max(...Float32Array.from(entropy)));
        for (const f of ['nll_sd', 'entropy_sd', 'surprise_sd'] as const) expect(got[f]).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('token-distribution signals of a scored row', () => {
  it('stories260k: ordered, and equal to the float64 reference forward pass (1e-4)', async () => {
    const texts = [
      'The committee met on Tuesday. Tom had a big red ball, and the quarterly margins fell.',
      'Once upon a time, there was a little girl named Lily.',
    ];
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-tokdist-'));
    writeFileSync(join(dir, 'in.jsonl'), texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
    const summary = await scoreCorpus({
      input: join(dir, 'in.jsonl'),
      out: join(dir, 'out'),
      model: MODEL,
      device: 'cpu',
      threads: 1,
    });
    const rows = readFileSync(join(summary.out, 'scores.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as TokenDistribution & { tokens: number });
    for (const r of rows) {
      expect(0).toBeLessThanOrEqual(r.rank_top1);
      expect(r.rank_top1).toBeLessThanOrEqual(r.rank_top10);
      expect(r.rank_top10).toBeLessThanOrEqual(r.rank_top100);
      expect(r.rank_top100).toBeLessThanOrEqual(r.rank_top1000);
      expect(r.rank_top1000).toBeLessThanOrEqual(1);
      expect(r.entropy_q10).toBeLessThanOrEqual(r.entropy_q50);
      expect(r.entropy_q50).toBeLessThanOrEqual(r.entropy_q90);
      for (const f of ['nll_sd', 'entropy_sd', 'surprise_sd'] as const) expect(r[f]).toBeGreaterThanOrEqual(0);
    }

    const reference = Llama2cReference.fromFile(join(FIXTURE, 'stories260K.bin'));
    const tok = Llama2cTokenizer.fromFile(join(FIXTURE, 'tok512.bin'));
    const ids = [BOS_ID, ...tok.encode(texts[0]!)];
    const logits = reference.forwardLogits(ids);
    const logp: number[] = [],
      entropy: number[] = [],
      rank: number[] = [];
    for (let t = 1; t < ids.length; t++) {
      const lp = logSoftmax(logits[t - 1]!);
      const target = lp[ids[t]!]!;
      logp.push(target);
      entropy.push(-lp.reduce((s, l) => s + Math.exp(l) * l, 0));
      rank.push(1 + lp.filter((l) => l > target).length);
    }
    const want = naive(logp, entropy, rank);
    const got = rows[0]!;
    expect(got.tokens).toBe(ids.length - 1);
    // A mixed text: not every token is the top one, so the buckets are not all 1.
    expect(want.rank_top1).toBeLessThan(1);
    for (const f of TOKEN_DISTRIBUTION_FIELDS) expect(Math.abs(got[f] - want[f]), f).toBeLessThan(1e-4);
  });
});
