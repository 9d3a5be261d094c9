/** The verdict rule on metric series: hand-computed cases, the regimes it separates, invariances, bad input. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  ACCUMULATION_BOUND,
  generationVerdicts,
  metricVerdicts,
  worst,
  type MetricSeries,
  type Verdict,
} from '../../src/diversity/verdict.js';

const K = Math.PI ** 2 / 6;
const series = (values: number[], se = 0.005, metric = 'distinct-2', decisive = true): MetricSeries => ({
  metric,
  decisive,
  points: values.map((value) => ({ value, se })),
});
const verdicts = (values: number[], se = 0.005) => metricVerdicts(series(values, se)).map((e) => e.verdict);

describe('metricVerdicts', () => {
  it('computes loss, cumulative loss, bound, excess and their noise as the header states', () => {
    const s: MetricSeries = {
      metric: 'm',
      decisive: true,
      points: [
        { value: 0.5, se: 0.004 },
        { value: 0.4, se: 0.005 },
        { value: 0.3, se: 0.006 },
      ],
    };
    const [e1, e2] = metricVerdicts(s);
    expect(ACCUMULATION_BOUND).toBe(K);
    expect(e1!.loss).toBeCloseTo(0.1, 12);
    expect(e1!.cumulative_se).toBeCloseTo(Math.hypot(0.004, 0.005), 12);
    expect(e1!.excess).toBeCloseTo(0.1 - K * 0.1, 12);
    expect(e1!.excess_se).toBeCloseTo((K - 1) * Math.hypot(0.004, 0.005), 12);
    expect(e2!.loss).toBeCloseTo(0.1, 12);
    expect(e2!.cumulative).toBeCloseTo(0.2, 12);
    expect(e2!.bound).toBeCloseTo(K * 0.1, 12);
    expect(e2!.excess).toBeCloseTo(0.2 - K * 0.1, 12);
    expect(e2!.excess_se).toBeCloseTo(Math.sqrt(((K - 1) * 0.004) ** 2 + (K * 0.005) ** 2 + 0.006 ** 2), 12);
    // 0.2 − 0.1645 = 0.0355 > 1.96 · 0.0109 = 0.0214: compounding; generation 1 is a decline.
    expect([e1!.verdict, e2!.verdict]).toEqual(['bounded decline', 'compounding loss']);
  });

  it('accumulation (the k-th loss L1/k²) stays a bounded decline for 30 generations; replacement (linear) compounds from generation 2', () => {
    const acc = [0.5];
    for (let k = 1; k <= 30; k++) acc.push(acc[k - 1]! - 0.1 / k ** 2);
    expect(verdicts(acc)).toEqual(Array(30).fill('bounded decline'));
    const rep = Array.from({ length: 6 }, (_, g) => 0.5 - 0.06 * g);
    expect(verdicts(rep)).toEqual([
      'bounded decline',
      'compounding loss',
      'compounding loss',
      'compounding loss',
      'compounding loss',
    ]);
  });

  it('losses that shrink more slowly than 1/k² cross the bound once their sum exceeds (π²/6)·L1 by the noise', () => {
    // L_k = 0.1/k: cumulative 0.1·H_g; H_3 = 1.83 > 1.645, excess 0.0189 vs z·se = 0.0199 at se 0.005: not yet;
    // H_4 = 2.08: excess 0.0438 — compounding.
    const harm = [0.5];
    for (let k = 1; k <= 4; k++) harm.push(harm[k - 1]! - 0.1 / k);
    expect(verdicts(harm)).toEqual(['bounded decline', 'bounded decline', 'bounded decline', 'compounding loss']);
    // With ten times less noise, generation 3 already compounds.
    expect(verdicts(harm, 0.0005)).toEqual([
      'bounded decline',
      'bounded decline',
      'compounding loss',
      'compounding loss',
    ]);
  });

  it("the issue's loops: accumulate 0.400 → 0.379 → 0.370 is a bounded decline, replace 0.40 → 0.19 compounds", () => {
    // The one-generation rule flagged both; a loss that shrinks (0.021, then 0.009) stays within (π²/6)·0.021.
    expect(verdicts([0.4, 0.379, 0.37], 0.003)).toEqual(['bounded decline', 'bounded decline']);
    expect(verdicts([0.4, 0.34, 0.29, 0.25, 0.22, 0.19], 0.003)).toEqual([
      'bounded decline',
      'bounded decline',
      'compounding loss',
      'compounding loss',
      'compounding loss',
    ]);
  });

  it('stable when no loss since GEN0 exceeds the noise, however the series wanders', () => {
    expect(verdicts([0.5, 0.505, 0.497, 0.49, 0.501])).toEqual(['stable', 'stable', 'stable', 'stable']);
    // z·se(C) = 1.96·√2·0.005 = 0.01386: a loss of 0.013 is noise, 0.014 is not.
    expect(verdicts([0.5, 0.5, 0.487])).toEqual(['stable', 'stable']);
    expect(verdicts([0.5, 0.5, 0.486])).toEqual(['stable', 'compounding loss']);
    // Large losses drown in larger noise.
    expect(verdicts([0.5, 0.4, 0.3, 0.2], 0.2)).toEqual(['stable', 'stable', 'stable']);
  });

  it('a first generation that gains sets a bound of 0: any later loss beyond the noise compounds', () => {
    const e = metricVerdicts(series([0.5, 0.52, 0.47]));
    expect(e[1]!.bound).toBe(0);
    expect(e[1]!.excess_se).toBeCloseTo(e[1]!.cumulative_se, 15);
    expect(e.map((x) => x.verdict)).toEqual(['stable', 'compounding loss']);
  });

  it('generation 1 is never compounding, whatever its loss', () => {
    expect(verdicts([0.9, 0.1])).toEqual(['bounded decline']);
  });

  it('is unchanged by shifting or scaling a metric (values and standard errors alike)', () => {
    const arb = fc.record({
      values: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 8 }),
      se: fc.double({ min: 1e-4, max: 0.05, noNaN: true }),
      a: fc.double({ min: -5, max: 5, noNaN: true }),
      b: fc.double({ min: 0.5, max: 20, noNaN: true }),
    });
    fc.assert(
      fc.property(arb, ({ values, se, a, b }) => {
        const base = verdicts(values, se);
        expect(
          verdicts(
            values.map((v) => a + v),
            se,
          ),
        ).toEqual(base);
        expect(
          verdicts(
            values.map((v) => b * v),
            b * se,
          ),
        ).toEqual(base);
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it('a lower value at the last generation never makes its verdict better', () => {
    const rank: Record<Verdict, number> = { stable: 0, 'bounded decline': 1, 'compounding loss': 2 };
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 7 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        (values, drop) => {
          const lower = [...values.slice(0, -1), values.at(-1)! - drop];
          expect(rank[verdicts(lower).at(-1)!]).toBeGreaterThanOrEqual(rank[verdicts(values).at(-1)!]);
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });
});

describe('generationVerdicts', () => {
  it('takes the worst verdict over the decisive metrics and names them; other metrics are evidence only', () => {
    const d2 = series([0.5, 0.4, 0.3], 0.005, 'distinct-2');
    const d1 = series([0.3, 0.29, 0.28], 0.005, 'distinct-1');
    const vendi = series([9, 8, 1], 0.01, 'vendi', false);
    const v = generationVerdicts([d2, d1, vendi]);
    expect(v.map((x) => x.verdict)).toEqual(['bounded decline', 'compounding loss']);
    expect(v[1]!.decided_by).toEqual(['distinct-2']);
    expect(v[0]!.decided_by).toEqual(['distinct-2']);
    expect(v[1]!.metrics.map((m) => [m.metric, m.decisive, m.verdict])).toEqual([
      ['distinct-2', true, 'compounding loss'],
      ['distinct-1', true, 'bounded decline'],
      ['vendi', false, 'compounding loss'],
    ]);
    // Vendi alone collapsing, not decisive: the generation stays stable.
    const flat = series([0.5, 0.5, 0.5], 0.005, 'distinct-2');
    expect(generationVerdicts([flat, vendi]).map((x) => [x.verdict, x.decided_by])).toEqual([
      ['stable', []],
      ['stable', []],
    ]);
  });

  it('worst orders the verdicts', () => {
    expect(worst([])).toBe('stable');
    expect(worst(['bounded decline', 'stable'])).toBe('bounded decline');
    expect(worst(['stable', 'compounding loss', 'bounded decline'])).toBe('compounding loss');
  });

  it('rejects bad input with library errors naming the option', () => {
    const ok = series([0.5, 0.4]);
    expect(() => generationVerdicts([ok], { z: 0 })).toThrow(UsageError);
    expect(() => generationVerdicts([ok], { z: Number.NaN })).toThrow(/`z` must be a positive number/);
    expect(() => generationVerdicts([{ ...ok, decisive: false }])).toThrow(/at least one decisive metric/);
    expect(() => generationVerdicts([ok, series([0.5, 0.4, 0.3])])).toThrow(/one point per generation/);
    expect(() => metricVerdicts(series([0.5]))).toThrow(/GEN0 and at least one more/);
    expect(() =>
      metricVerdicts({
        metric: 'm',
        decisive: true,
        points: [
          { value: 0.5, se: -1 },
          { value: 0.4, se: 0 },
        ],
      }),
    ).toThrow(/standard error ≥ 0/);
  });
});
