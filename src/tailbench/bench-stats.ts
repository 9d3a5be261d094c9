/**
 * The tail benchmark's numbers, from one value per anchor document (its bits per byte, or its mean NLL) and the
 * document's region: per region the mean with a normal interval (mean ± z·s/√n, s the sample sd); the tail (the
 * documents of the tail regions, pooled) and the head (all others) each as a mean with a stratified standard error
 * (regions are fixed by the coverage run, so SE² = Σ_c n_c·s_c² / N² over the group's regions); and the gap
 * tail − head with a percentile bootstrap interval, documents resampled within each region (sizes kept) at the
 * confidence level of ±z (2Φ(z) − 1). A region of one document has no sd: no interval, and it adds no variance.
 */
import { bootstrapCiByStrata, confidenceOfZ } from '../stats/index.js';

/** A mean over documents with its interval (lo/hi/se null when it has fewer than two documents, mean null at none). */
export interface MeanStat {
  docs: number;
  mean: number | null;
  se: number | null;
  lo: number | null;
  hi: number | null;
}

export interface GapStat {
  /** tail mean − head mean. */
  value: number;
  lo: number;
  hi: number;
}

export interface BenchStats {
  regions: MeanStat[];
  /** Null when no region is a tail (or none of its documents was scored). */
  tail: MeanStat | null;
  /** Null when every region is a tail. */
  head: MeanStat | null;
  gap: GapStat | null;
}

export interface BenchStatsOptions {
  z: number;
  resamples?: number;
  seed?: number;
}

interface Moments {
  n: number;
  mean: number;
  /** Σ (x − mean)². */
  ss: number;
}

function moments(values: ArrayLike<number>, regions: ArrayLike<number>, k: number): Moments[] {
  const m = Array.from({ length: k }, () => ({ n: 0, mean: 0, ss: 0 }));
  // Welford: one pass, stable.
  for (let i = 0; i < values.length; i++) {
    const r = m[regions[i] as number]!;
    const x = values[i] as number;
    r.n++;
    const d = x - r.mean;
    r.mean += d / r.n;
    r.ss += d * (x - r.mean);
  }
  return m;
}

function regionStat(m: Moments, z: number): MeanStat {
  if (m.n === 0) return { docs: 0, mean: null, se: null, lo: null, hi: null };
  if (m.n === 1) return { docs: 1, mean: m.mean, se: null, lo: null, hi: null };
  const se = Math.sqrt(m.ss / (m.n - 1) / m.n);
  return { docs: m.n, mean: m.mean, se, lo: m.mean - z * se, hi: m.mean + z * se };
}

/** The pooled mean of a group of regions and its stratified standard error. */
function groupStat(ms: Moments[], z: number): MeanStat | null {
  const n = ms.reduce((a, m) => a + m.n, 0);
  if (n === 0) return null;
  const mean = ms.reduce((a, m) => a + m.n * m.mean, 0) / n;
  const v = ms.reduce((a, m) => a + (m.n > 1 ? (m.n * (m.ss / (m.n - 1))) / (n * n) : 0), 0);
  const se = Math.sqrt(v);
  return n < 2
    ? { docs: n, mean, se: null, lo: null, hi: null }
    : { docs: n, mean, se, lo: mean - z * se, hi: mean + z * se };
}

/** `values[i]` is document i's value, `regions[i]` its region (0 … k−1); `tails` the tail regions. */
export function benchStats(
  values: ArrayLike<number>,
  regions: ArrayLike<number>,
  k: number,
  tails: ReadonlySet<number>,
  opts: BenchStatsOptions,
): BenchStats {
  const m = moments(values, regions, k);
  const regionStats = m.map((r) => regionStat(r, opts.z));
  const tail = groupStat(
    m.filter((_, c) => tails.has(c)),
    opts.z,
  );
  const head = groupStat(
    m.filter((_, c) => !tails.has(c)),
    opts.z,
  );
  let gap: GapStat | null = null;
  if (tail && head) {
    const isTail = Uint8Array.from({ length: values.length }, (_, i) => (tails.has(regions[i] as number) ? 1 : 0));
    const ci = bootstrapCiByStrata(
      (idx) => {
        let st = 0;
        let sh = 0;
        let nt = 0;
        let nh = 0;
        for (let j = 0; j < idx.length; j++) {
          const i = idx[j]!;
          if (isTail[i]) {
            st += values[i] as number;
            nt++;
          } else {
            sh += values[i] as number;
            nh++;
          }
        }
        return st / nt - sh / nh;
      },
      regions,
      { resamples: opts.resamples ?? 1000, seed: opts.seed ?? 1, confidence: confidenceOfZ(opts.z) },
    );
    gap = { value: tail.mean! - head.mean!, lo: ci.lo, hi: ci.hi };
  }
  return { regions: regionStats, tail, head, gap };
}
