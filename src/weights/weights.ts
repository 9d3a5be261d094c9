/**
 * Oversampling weights that move a candidate corpus's cluster distribution towards the reference's:
 *   w_j = ref_share(c_j) / cand_share(c_j)          (importance weight of document j in cluster c_j)
 *   × (1 − p_synthetic_j)                             (optional: down-weight suspected machine text)
 *   normalised to mean 1, then capped at `maxWeight`: clipped and renormalised until no weight exceeds the cap.
 * Reported: the total-variation distance ½ Σ_c |ref_share − cand_share| between the cluster histograms before and
 * after weighting. What weights cannot fix: a cluster the candidate lacks has nothing to up-weight; its reference
 * share stays missing (the report lists those clusters and their share), and a cap limits how far thin clusters move.
 */
import { UsageError } from '../errors.js';
import { perCluster, totalVariation } from '../coverage/clusters.js';

export interface WeightResult {
  weights: Float64Array;
  referenceShare: number[];
  candidateShare: number[];
  weightedShare: number[];
  tvBefore: number;
  tvAfter: number;
  /** Clusters with reference documents but no candidate document: weights cannot bring them back. */
  absent: { cluster: number; reference_share: number }[];
  capped: number;
}

function shares(assign: Int32Array, k: number, w?: ArrayLike<number>): number[] {
  const s = perCluster(assign, k, w);
  const total = s.reduce((a, b) => a + b, 0);
  return Array.from(s, (v) => (total > 0 ? v / total : 0));
}

export function clusterWeights(
  refAssign: Int32Array,
  candAssign: Int32Array,
  k: number,
  opts: { maxWeight?: number; pSynthetic?: ArrayLike<number> } = {},
): WeightResult {
  const maxWeight = opts.maxWeight ?? 10;
  if (!(maxWeight >= 1)) throw new UsageError(`\`maxWeight\` must be at least 1 (the mean weight) (got ${maxWeight})`);
  const rs = shares(refAssign, k);
  const cs = shares(candAssign, k);
  const n = candAssign.length;
  const w = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const c = candAssign[j]!;
    w[j] = (rs[c]! / cs[c]!) * (opts.pSynthetic ? 1 - Math.min(1, Math.max(0, opts.pSynthetic[j]!)) : 1);
  }
  const normalise = () => {
    const mean = w.reduce((a, b) => a + b, 0) / n;
    if (mean > 0) for (let j = 0; j < n; j++) w[j] = w[j]! / mean;
  };
  normalise();
  let capped = 0;
  for (let it = 0; it < 100; it++) {
    let over = 0;
    for (let j = 0; j < n; j++) if (w[j]! > maxWeight + 1e-12) over++;
    if (over === 0) break;
    // Clip the over-cap weights and spread the rest so that the mean stays 1.
    const fixedMass = over * maxWeight;
    let freeMass = 0;
    for (let j = 0; j < n; j++) if (w[j]! <= maxWeight + 1e-12) freeMass += w[j]!;
    const scale = freeMass > 0 ? (n - fixedMass) / freeMass : 0;
    for (let j = 0; j < n; j++) w[j] = w[j]! > maxWeight + 1e-12 ? maxWeight : w[j]! * scale;
    capped = over;
  }
  const ws = shares(candAssign, k, w);
  return {
    weights: w,
    referenceShare: rs,
    candidateShare: cs,
    weightedShare: ws,
    tvBefore: totalVariation(rs, cs),
    tvAfter: totalVariation(rs, ws),
    absent: rs.flatMap((share, c) => (share > 0 && cs[c] === 0 ? [{ cluster: c, reference_share: share }] : [])),
    capped,
  };
}
