/**
 * How many anchor documents to export from each tail region, and with what weight, so that adding them to the
 * candidate restores the anchor's proportions (docs/coverage.md#tails-export derives it):
 *
 *   r_c, q_c   the region's share of the reference (anchor) and of the candidate; N the candidate's documents;
 *   R, Q       Σ r_c and Σ q_c over the tail regions T.
 *   mass m_c = N · (r_c · (1 − Q) / (1 − R) − q_c)   candidate-document units to add to region c ∈ T.
 *
 * With m_c added, region c holds N·q_c + m_c of N + Σ m = N·(1 − Q)/(1 − R) documents: exactly r_c of the mix, while
 * the other regions keep their candidate proportions among themselves and together hold 1 − R, the anchor's total.
 * Each exported document of region c weighs m_c / (documents exported from c).
 *
 * A budget of B documents is shared among the tail regions in proportion to their mass (largest remainders, ties to
 * the lower region), none given more documents than it has, the excess handed on to the others. Weights follow the
 * documents: the same mass over fewer documents.
 */
import { UsageError } from '../errors.js';

export interface TailRegionShares {
  region: number;
  /** r_c */
  reference_share: number;
  /** q_c */
  candidate_share: number;
  /** The anchor's documents in the region: what can be exported. */
  reference_documents: number;
}

export interface TailPlanRegion extends TailRegionShares {
  /** m_c: candidate-document units to add. */
  mass: number;
  /** Documents to export (all of reference_documents without a budget). */
  exported: number;
  /** m_c / exported: the weight of each exported document (0 when none is exported). */
  weight: number;
}

export interface TailPlan {
  regions: TailPlanRegion[];
  /** Σ m_c. */
  total_mass: number;
  exported: number;
}

export function tailPlan(tails: TailRegionShares[], candidateDocuments: number, budget?: number): TailPlan {
  if (budget !== undefined && !(Number.isInteger(budget) && budget >= 1))
    throw new UsageError(`\`budget\` must be a positive integer (got ${budget})`);
  const R = tails.reduce((a, t) => a + t.reference_share, 0);
  const Q = tails.reduce((a, t) => a + t.candidate_share, 0);
  if (tails.length && !(R < 1))
    throw new UsageError('every reference region is a tail: there is no candidate mix to restore proportions within');
  const masses = tails.map((t) =>
    Math.max(0, candidateDocuments * ((t.reference_share * (1 - Q)) / (1 - R) - t.candidate_share)),
  );
  const available = tails.map((t) => t.reference_documents);
  const counts = budget === undefined ? available : allocate(budget, masses, available);
  const regions = tails.map((t, i) => ({
    ...t,
    mass: masses[i]!,
    exported: counts[i]!,
    weight: counts[i]! > 0 ? masses[i]! / counts[i]! : 0,
  }));
  return {
    regions,
    total_mass: masses.reduce((a, b) => a + b, 0),
    exported: counts.reduce((a, b) => a + b, 0),
  };
}

/**
 * `budget` seats shared in proportion to `weights` (largest remainders, ties to the lower index), none above its
 * `caps`: a share that would exceed its cap gets the cap and the rest is shared again among the others.
 */
export function allocate(budget: number, weights: number[], caps: number[]): number[] {
  const out = caps.map(() => 0);
  let open = caps.flatMap((c, i) => (c > 0 ? [i] : []));
  let left = budget;
  for (;;) {
    if (!open.length || left <= 0) return out;
    const total = open.reduce((a, i) => a + weights[i]!, 0);
    // Regions with no mass share the seats evenly when none has any.
    const share = (i: number) => (total > 0 ? (left * weights[i]!) / total : left / open.length);
    const full = open.filter((i) => share(i) >= caps[i]!);
    if (full.length) {
      for (const i of full) {
        out[i] = caps[i]!;
        left -= caps[i]!;
      }
      open = open.filter((i) => !full.includes(i));
      continue;
    }
    const quotas = open.map((i) => ({ i, q: share(i) }));
    for (const { i, q } of quotas) out[i] = Math.floor(q);
    let rest = left - quotas.reduce((a, { q }) => a + Math.floor(q), 0);
    const byRemainder = [...quotas].sort((a, b) => b.q - Math.floor(b.q) - (a.q - Math.floor(a.q)) || a.i - b.i);
    for (const { i } of byRemainder) {
      if (rest <= 0) break;
      out[i]!++;
      rest--;
    }
    return out;
  }
}

/** Whether member `t` (0-based, in row order) of a region with `n` documents is among `b` evenly spaced picks. */
export function picked(t: number, n: number, b: number): boolean {
  return Math.floor(((t + 1) * b) / n) > Math.floor((t * b) / n);
}
