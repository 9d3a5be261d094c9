/** A two-sided interval, and the one check every interval's confidence level gets. */
import { UsageError } from '../errors.js';

export interface Interval {
  lo: number;
  hi: number;
}

export function checkConfidence(c: number): void {
  if (!(c > 0 && c < 1)) throw new UsageError(`confidence must be in (0, 1), got ${c}`);
}
