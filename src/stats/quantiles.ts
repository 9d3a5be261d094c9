/** Quantiles of a sorted sample: the statistics every room shares (signals, detection, audit) live under src/stats. */
import { UsageError } from '../errors.js';

/** Linear interpolation between order statistics at h = (n − 1)p (numpy's default, "type 7"). */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new UsageError('quantile of an empty sample');
  const h = (n - 1) * p;
  const i = Math.floor(h);
  const a = sorted[i] as number;
  if (i >= n - 1 || h === i) return a;
  const b = sorted[i + 1] as number;
  return a === b ? a : a + (h - i) * (b - a);
}
