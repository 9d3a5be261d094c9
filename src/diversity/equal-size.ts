/**
 * distinct-n at equal size, with its noise, so that generations of different sizes compare fairly (distinct-n falls
 * as a corpus grows: more n-grams, more repeats).
 *
 * Budget: every generation is measured on the same number of n-grams, 2h, where h = ⌊(fewest n-grams any of the
 * generations holds) / 2⌋. One replicate: the documents in a seeded random order, their n-grams in that order (n-grams
 * do not cross documents); the first h are half A, the next h half B, and the 2h together the full sample. The
 * estimate is the mean over replicates of distinct-n of the full sample (for the smallest generation that is the
 * whole corpus, give or take one n-gram).
 *
 * Noise (repeated half-sampling without replacement): A and B hold disjoint documents, i.e. two independent samples of
 * h n-grams from whatever produced the generation, so (d_A − d_B)²/2 estimates Var(distinct-n at h); averaged over
 * replicates. Resampling with replacement would not do: a document drawn twice repeats all of its n-grams and lowers
 * distinct-n. Scaled to the full size by Var(2h) = Var(h)/2 (variance ∝ 1/size, checked on the generation-loop
 * simulation in test/diversity/equal-size.test.ts), then by (2h/T + 1/R) for the mean over R replicates of
 * subsamples of a generation of T n-grams (Hoeffding's bound for an average over subsamples, plus the Monte-Carlo
 * part): se² = Var(h)/2 · (2h/T + 1/R).
 */
import { UsageError } from '../errors.js';
import { mulberry32, type Rng } from '../random.js';

export interface EqualSizeDistinct {
  /** Mean distinct-n over the replicates' full samples of `budget` n-grams. */
  value: number;
  /** Standard error from the half-samples (see the header). */
  se: number;
  /** n-grams per full sample (2h). */
  budget: number;
  /** n-grams the generation holds. */
  ngrams: number;
  replicates: number;
}

/** The n-grams of each document as integer ids (ids shared within one call; n-grams do not cross documents). */
export function ngramIds(docs: string[][], n: number): Int32Array[] {
  const ids = new Map<string, number>();
  return docs.map((words) => {
    const out = new Int32Array(Math.max(0, words.length - n + 1));
    for (let i = 0; i < out.length; i++) {
      const key = words.slice(i, i + n).join('\u0001');
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = ids.size));
      out[i] = id;
    }
    return out;
  });
}

export function countNgrams(docs: string[][], n: number): number {
  return docs.reduce((a, w) => a + Math.max(0, w.length - n + 1), 0);
}

/** The full-sample size every generation is measured at: 2⌊min/2⌋ of the generations' n-gram counts. */
export function commonBudget(ngramCounts: number[]): number {
  const min = Math.min(...ngramCounts);
  if (!(min >= 2))
    throw new UsageError(
      `every generation needs at least 2 n-grams for distinct-n at equal size; the smallest holds ${min}`,
    );
  return 2 * Math.floor(min / 2);
}

/** distinct-n of `docs` at `budget` n-grams (even, at most the n-grams the documents hold), with its noise. */
export function distinctAtBudget(
  docs: string[][],
  n: number,
  budget: number,
  opts: { replicates?: number; seed?: number } = {},
): EqualSizeDistinct {
  const replicates = opts.replicates ?? 50;
  if (!Number.isInteger(replicates) || replicates < 1)
    throw new UsageError(`\`replicates\` must be a positive integer, got ${replicates}`);
  const grams = ngramIds(docs, n);
  const total = grams.reduce((a, g) => a + g.length, 0);
  if (!Number.isInteger(budget) || budget < 2 || budget % 2 !== 0 || budget > total)
    throw new UsageError(`budget must be an even number of n-grams in [2, ${total}], got ${budget}`);
  const h = budget / 2;
  const rng = mulberry32(opts.seed ?? 1);
  const ids = grams.reduce((a, g) => g.reduce((b, x) => Math.max(b, x + 1), a), 0);
  // Stamps instead of clearing: seen[id] === mark means seen in the current half (or full sample).
  const seenHalf = new Int32Array(ids);
  const seenFull = new Int32Array(ids);
  let sum = 0;
  let sq = 0;
  for (let r = 0; r < replicates; r++) {
    const order = shuffled(grams.length, rng);
    const distinct = [0, 0];
    let full = 0;
    let taken = 0;
    for (const d of order) {
      for (const id of grams[d]!) {
        if (taken === budget) break;
        const half = taken < h ? 0 : 1;
        const mark = 2 * r + half + 1;
        if (seenHalf[id] !== mark) {
          seenHalf[id] = mark;
          distinct[half]!++;
        }
        if (seenFull[id] !== r + 1) {
          seenFull[id] = r + 1;
          full++;
        }
        taken++;
      }
      if (taken === budget) break;
    }
    sum += full / budget;
    sq += ((distinct[0]! - distinct[1]!) / h) ** 2 / 2;
  }
  const varHalf = sq / replicates;
  return {
    value: sum / replicates,
    se: Math.sqrt((varHalf / 2) * (budget / total + 1 / replicates)),
    budget,
    ngrams: total,
    replicates,
  };
}

function shuffled(n: number, rng: Rng): Int32Array {
  const a = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}
