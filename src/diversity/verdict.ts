/**
 * A verdict per generation from the trend of each metric (higher = more diverse) against GEN0, the human anchor.
 *
 * For a metric with values m_0 (GEN0), m_1, … and standard errors s_0, s_1, … (independent across generations):
 *   loss        L_g = m_{g−1} − m_g
 *   cumulative  C_g = m_0 − m_g
 *   bound       B   = (π²/6) · max(L_1, 0)
 *   excess      E_g = C_g − B
 * The bound is what accumulating data allows (Gerstgrasser et al. 2024, "Is model collapse inevitable?"): when every
 * generation trains on the data of all earlier ones, the k-th generation adds about L_1/k² to the loss, so the loss
 * stays below Σ_k L_1/k² < (π²/6)·L_1, however many generations there are; when each generation trains on its
 * predecessor's output alone, the loss grows about linearly and crosses the bound.
 *
 * Per metric, with z one-sided (default 1.96):
 *   compounding loss  g ≥ 2, C_g > z·se(C_g) and E_g > z·se(E_g): the loss exceeds what accumulation allows by
 *                     more than the noise
 *   bounded decline   C_g > z·se(C_g): a loss since GEN0 that the noise does not explain, within the bound
 *   stable            otherwise: no loss since GEN0 distinguishable from resampling noise
 * se(C_g)² = s_0² + s_g²; se(E_g)² = (κ−1)²s_0² + κ²s_1² + s_g² with κ = π²/6 (when L_1 > 0; otherwise B = 0 and
 * se(E_g) = se(C_g)). Generation 1 is never compounding: its own loss is the yardstick.
 *
 * The generation's verdict is the worst over the decisive metrics; the others are reported with their own verdicts
 * as evidence but do not change the generation's.
 */
import { UsageError } from '../errors.js';

export const ACCUMULATION_BOUND = Math.PI ** 2 / 6;
export const DEFAULT_Z = 1.96;

export type Verdict = 'stable' | 'bounded decline' | 'compounding loss';
const RANK: Record<Verdict, number> = { stable: 0, 'bounded decline': 1, 'compounding loss': 2 };

export interface MetricPoint {
  value: number;
  /** Standard error (0 when the value is exact, e.g. an analytic anchor). */
  se: number;
}

export interface MetricSeries {
  metric: string;
  /** Whether this metric's verdict counts toward the generation's. */
  decisive: boolean;
  /** One point per generation, GEN0 first. */
  points: MetricPoint[];
}

export interface MetricEvidence {
  metric: string;
  decisive: boolean;
  value: number;
  se: number;
  loss: number;
  cumulative: number;
  cumulative_se: number;
  bound: number;
  excess: number;
  excess_se: number;
  verdict: Verdict;
}

export interface GenerationVerdict {
  generation: number;
  verdict: Verdict;
  /** Decisive metrics whose verdict is the generation's (empty when stable). */
  decided_by: string[];
  metrics: MetricEvidence[];
}

export function worst(verdicts: Verdict[]): Verdict {
  return verdicts.reduce<Verdict>((a, v) => (RANK[v] > RANK[a] ? v : a), 'stable');
}

/** Evidence and verdict of one metric at each generation 1..G. */
export function metricVerdicts(series: MetricSeries, z: number = DEFAULT_Z): MetricEvidence[] {
  const p = series.points;
  if (p.length < 2)
    throw new UsageError(`metric ${series.metric}: a trend needs GEN0 and at least one more generation`);
  for (const [g, x] of p.entries()) {
    if (!Number.isFinite(x.value) || !(x.se >= 0))
      throw new UsageError(
        `metric ${series.metric}, generation ${g}: value ${x.value} ± ${x.se} is not a finite value with a standard error ≥ 0`,
      );
  }
  const [m0, m1] = [p[0]!, p[1]!];
  const l1 = m0.value - m1.value;
  const kappa = l1 > 0 ? ACCUMULATION_BOUND : 0;
  const bound = kappa * Math.max(l1, 0);
  return p.slice(1).map((x, i) => {
    const g = i + 1;
    const cumulative = m0.value - x.value;
    const cumulativeSe = Math.hypot(m0.se, x.se);
    const excess = cumulative - bound;
    // E_1 = (1−κ)·C_1; E_g = (1−κ)m_0 + κm_1 − m_g for g ≥ 2.
    const excessSe =
      g === 1 ? Math.abs(kappa - 1) * cumulativeSe : Math.hypot((kappa - 1) * m0.se, kappa * m1.se, x.se);
    const declined = cumulative > z * cumulativeSe;
    const verdict: Verdict =
      g >= 2 && declined && excess > z * excessSe ? 'compounding loss' : declined ? 'bounded decline' : 'stable';
    return {
      metric: series.metric,
      decisive: series.decisive,
      value: x.value,
      se: x.se,
      loss: p[g - 1]!.value - x.value,
      cumulative,
      cumulative_se: cumulativeSe,
      bound,
      excess,
      excess_se: excessSe,
      verdict,
    };
  });
}

/** The verdict of each generation 1..G: the worst over the decisive metrics, with every metric's evidence. */
export function generationVerdicts(series: MetricSeries[], opts: { z?: number } = {}): GenerationVerdict[] {
  const z = opts.z ?? DEFAULT_Z;
  if (!(Number.isFinite(z) && z > 0)) throw new UsageError(`\`z\` must be a positive number, got ${z}`);
  if (!series.some((s) => s.decisive)) throw new UsageError('a verdict needs at least one decisive metric');
  const generations = series[0]!.points.length;
  if (series.some((s) => s.points.length !== generations))
    throw new UsageError('every metric needs one point per generation');
  const evidence = series.map((s) => metricVerdicts(s, z));
  return Array.from({ length: generations - 1 }, (_, i) => {
    const metrics = evidence.map((e) => e[i]!);
    const decisive = metrics.filter((m) => m.decisive);
    const verdict = worst(decisive.map((m) => m.verdict));
    return {
      generation: i + 1,
      verdict,
      decided_by: verdict === 'stable' ? [] : decisive.filter((m) => m.verdict === verdict).map((m) => m.metric),
      metrics,
    };
  });
}
