/** distinct-n at equal size: exact at full size, fair across sizes, and its half-sample noise calibrated. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { commonBudget, countNgrams, distinctAtBudget } from '../../src/diversity/equal-size.js';
import { distinctN } from '../../src/diversity/metrics.js';
import { generationVerdicts } from '../../src/diversity/verdict.js';
import { mulberry32 } from '../../src/random.js';
import { wordTokens } from '../../src/signals/text-signals.js';
import { detokenize, humanDocuments, tokenize, TrigramModel } from '../../scripts/lib/generation-loop.js';

const words = (texts: string[]) => texts.map((t) => wordTokens(t));

describe('distinctAtBudget', () => {
  it('at the whole corpus (even n-gram count) equals distinct-n exactly, whatever the order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { minLength: 0, maxLength: 10 }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.constantFrom(1, 2, 3),
        (docs, n) => {
          const total = countNgrams(docs, n);
          fc.pre(total >= 2 && total % 2 === 0);
          expect(distinctAtBudget(docs, n, total, { replicates: 5 }).value).toBeCloseTo(distinctN(docs, n), 12);
        },
      ),
      { numRuns: 200, seed: 3 },
    );
  });

  it('by hand: "a b a b" + "c d", budget 4 bigrams → 3/4; budget 2 → halves of one bigram', () => {
    // Either order, each half of 2 bigrams holds 2 distinct ones (ab ba | ab cd, or cd ab | ba ab): no spread.
    expect(
      distinctAtBudget(
        [
          ['a', 'b', 'a', 'b'],
          ['c', 'd'],
        ],
        2,
        4,
        { replicates: 10 },
      ),
    ).toEqual({ value: 0.75, se: 0, budget: 4, ngrams: 4, replicates: 10 });
    // Budget 2, one replicate, order doc 2 then doc 1 or the reverse: full sample {cd, ab} or {ab, ba}: 1 either way;
    // halves of 1 bigram are always distinct: se 0 again.
    expect(
      distinctAtBudget(
        [
          ['a', 'b', 'a', 'b'],
          ['c', 'd'],
        ],
        2,
        2,
        { replicates: 1 },
      ),
    ).toMatchObject({ value: 1, se: 0 });
    // "a a a a a": 4 bigrams "a a", 1 distinct; budget 4 → 1/4.
    expect(distinctAtBudget([['a', 'a', 'a', 'a', 'a']], 2, 4).value).toBe(0.25);
  });

  it('is seeded', () => {
    const docs = words(humanDocuments(60));
    const b = commonBudget([countNgrams(docs, 2)]) - 100;
    expect(distinctAtBudget(docs, 2, b, { seed: 4 })).toEqual(distinctAtBudget(docs, 2, b, { seed: 4 }));
    expect(distinctAtBudget(docs, 2, b, { seed: 4 }).value).not.toBe(distinctAtBudget(docs, 2, b, { seed: 5 }).value);
  });

  it('compares generations of unequal size fairly: twice the documents from the same source, same distinct-2', () => {
    const all = humanDocuments();
    const small = words(all.filter((_, i) => i % 3 === 0));
    const large = words(all.filter((_, i) => i % 3 !== 0));
    expect(large.length).toBe(2 * small.length);
    // Raw distinct-2 falls by far more than its noise just because the corpus is bigger …
    expect(distinctN(small, 2) - distinctN(large, 2)).toBeGreaterThan(0.05);
    // … at equal size the two agree within the noise, and the verdict is stable either way round.
    const budget = commonBudget([countNgrams(small, 2), countNgrams(large, 2)]);
    const [s, l] = [distinctAtBudget(small, 2, budget), distinctAtBudget(large, 2, budget)];
    expect(budget).toBe(countNgrams(small, 2) & ~1);
    expect(l.budget).toBe(s.budget);
    expect(Math.abs(s.value - l.value)).toBeLessThan(1.96 * Math.hypot(s.se, l.se));
    for (const points of [
      [s, l],
      [l, s],
    ])
      expect(generationVerdicts([{ metric: 'distinct-2', decisive: true, points }])[0]!.verdict).toBe('stable');
    // The subsampled generation's noise is smaller than the whole one's (the mean over subsamples of a larger corpus).
    expect(l.se).toBeLessThan(s.se);
  });

  it('half-sample noise matches the spread over independent corpora from the same source (within 30%)', () => {
    const model = new TrigramModel();
    for (const t of humanDocuments(150)) model.train(tokenize(t));
    const rng = mulberry32(99);
    for (const budgetShare of [1, 0.6]) {
      const values: number[] = [];
      const ses: number[] = [];
      for (let k = 0; k < 40; k++) {
        const docs: string[][] = [];
        while (docs.length < 150) {
          const d = model.sample(rng, 200);
          if (d.length) docs.push(wordTokens(detokenize(d)));
        }
        const e = distinctAtBudget(docs, 2, 2 * Math.floor((budgetShare * Math.min(9000, countNgrams(docs, 2))) / 2), {
          seed: k + 1,
        });
        values.push(e.value);
        ses.push(e.se);
      }
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
      const se = ses.reduce((a, b) => a + b, 0) / ses.length;
      expect(se / sd, `budget share ${budgetShare}: se ${se}, sd ${sd}`).toBeGreaterThan(0.7);
      expect(se / sd, `budget share ${budgetShare}: se ${se}, sd ${sd}`).toBeLessThan(1.3);
    }
  });

  it('rejects budgets it cannot meet and bad replicate counts', () => {
    const docs = [['a', 'b', 'c']];
    expect(() => distinctAtBudget(docs, 2, 3)).toThrow(UsageError);
    expect(() => distinctAtBudget(docs, 2, 4)).toThrow(/even number of n-grams in \[2, 2\]/);
    expect(() => distinctAtBudget(docs, 2, 2, { replicates: 0 })).toThrow(/`replicates` must be a positive integer/);
    expect(() => commonBudget([10, 1])).toThrow(/smallest holds 1/);
    expect(commonBudget([11, 40])).toBe(10);
  });
});
