/**
 * Percentile bootstrap: the (1−c)/2 and (1+c)/2 quantiles (linear interpolation between order statistics, R type 7)
 * of a statistic over resamples of the indices with replacement; the stratified variant resamples each label class
 * separately, keeping its size (bootstrapCiByStrata: any number of classes, e.g. regions). Randomness is mulberry32, seeded (default seed 1), so every interval is reproducible.
 */
import { UsageError } from '../errors.js';
import { mulberry32 } from '../random.js';
import { checkConfidence, type Interval } from './interval.js';
import { quantileSorted } from './quantiles.js';

export interface BootstrapOptions {
  resamples?: number;
  confidence?: number;
  seed?: number;
}

/** Gathers values[idx[i]] — the helper a bootstrap statistic needs. */
export function take<T>(values: ArrayLike<T>, idx: Int32Array): T[] {
  return Array.from(idx, (i) => values[i] as T);
}

export function bootstrapCi(statistic: (idx: Int32Array) => number, n: number, opts: BootstrapOptions = {}): Interval {
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`bootstrap needs n >= 1, got ${n}`);
  return percentileBootstrap(statistic, [Int32Array.from({ length: n }, (_, i) => i)], opts);
}

/** Resamples each label class separately (sizes kept), so every resample has both classes. */
export function bootstrapCiStratified(
  statistic: (idx: Int32Array) => number,
  labels: ArrayLike<0 | 1>,
  opts: BootstrapOptions = {},
): Interval {
  const strata: number[][] = [[], []];
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l !== 0 && l !== 1) throw new UsageError(`label ${i} is ${String(l)}, not 0 or 1`);
    strata[l]?.push(i);
  }
  const nonEmpty = strata.filter((s) => s.length > 0).map((s) => Int32Array.from(s));
  if (nonEmpty.length === 0) throw new UsageError('bootstrap needs at least one observation');
  return percentileBootstrap(statistic, nonEmpty, opts);
}

/** Resamples each stratum (any integer label: a region, a domain) separately, keeping every stratum's size. */
export function bootstrapCiByStrata(
  statistic: (idx: Int32Array) => number,
  strata: ArrayLike<number>,
  opts: BootstrapOptions = {},
): Interval {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < strata.length; i++) {
    const s = strata[i] as number;
    if (!Number.isInteger(s)) throw new UsageError(`stratum ${i} is ${String(s)}, not an integer`);
    let g = groups.get(s);
    if (!g) groups.set(s, (g = []));
    g.push(i);
  }
  if (groups.size === 0) throw new UsageError('bootstrap needs at least one observation');
  const ordered = [...groups].sort((a, b) => a[0] - b[0]).map(([, g]) => Int32Array.from(g));
  return percentileBootstrap(statistic, ordered, opts);
}

/**
 * The bootstrap standard error of a statistic (the sd of its values over resamples with replacement), for an
 * interval centred on the estimate (estimate ± z·se). Use it where resamples bias the statistic itself, as repeated
 * rows lower a Vendi score: the percentile interval would then sit below the estimate it is meant to bracket.
 */
export function bootstrapSe(statistic: (idx: Int32Array) => number, n: number, opts: BootstrapOptions = {}): number {
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`bootstrap needs n >= 1, got ${n}`);
  const v = replicates(statistic, [Int32Array.from({ length: n }, (_, i) => i)], opts.resamples ?? 1000, opts.seed);
  const mean = v.reduce((a, x) => a + x, 0) / v.length;
  return v.length > 1 ? Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / (v.length - 1)) : 0;
}

function replicates(
  statistic: (idx: Int32Array) => number,
  strata: Int32Array[],
  resamples: number,
  seed = 1,
): Float64Array {
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new UsageError(`resamples must be a positive integer, got ${resamples}`);
  const rng = mulberry32(seed);
  const total = strata.reduce((a, s) => a + s.length, 0);
  const stats = new Float64Array(resamples);
  const idx = new Int32Array(total);
  for (let b = 0; b < resamples; b++) {
    let o = 0;
    for (const s of strata) for (let i = 0; i < s.length; i++) idx[o++] = s[Math.floor(rng() * s.length)] as number;
    const v = statistic(idx);
    if (Number.isNaN(v)) throw new UsageError(`bootstrap statistic returned NaN on resample ${b}`);
    stats[b] = v;
  }
  return stats;
}

function percentileBootstrap(
  statistic: (idx: Int32Array) => number,
  strata: Int32Array[],
  opts: BootstrapOptions,
): Interval {
  const confidence = opts.confidence ?? 0.95;
  checkConfidence(confidence);
  const stats = replicates(statistic, strata, opts.resamples ?? 1000, opts.seed);
  stats.sort();
  return { lo: quantileSorted(stats, (1 - confidence) / 2), hi: quantileSorted(stats, (1 + confidence) / 2) };
}
