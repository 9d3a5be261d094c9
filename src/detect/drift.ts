/**
 * Is a detector being applied outside what it was calibrated on? Per signal, the calibration set's distribution is
 * kept as its mean, standard deviation and decile edges; an input's is compared with it by
 *   smd = (mean_input − mean_cal) / sd_cal                         (standardised mean shift)
 *   psi = Σ_bins (p_in − p_cal) · ln(p_in / p_cal)                  (population stability index; 10 bins between
 *         the calibration deciles, each proportion floored at 1e-4 so an empty bin stays finite)
 * A signal drifts when |smd| > 0.5 or psi − chance > 0.25 (0.25: the usual "significant shift" level of PSI;
 * chance = (bins − 1)(1/n_input + 1/n_calibration), PSI's expected value between two samples of one distribution,
 * which would otherwise flag every small input). Both compare the
 * input's mix of documents with the calibration mix, so a very different share of machine text moves them too.
 * A detector that reads the document embedding also keeps the calibration rows' centroid (their normalised mean
 * embedding) and the distribution of each row's cosine distance to it; `embedding_distance` is then compared like a
 * signal: text from a domain the calibration never saw lies farther from the centroid, and there the embedding's
 * weights were never tested.
 */
import { FEATURES, feature, type FeatureName, type ScoreRow } from './features.js';
import { quantileSorted } from '../stats/index.js';

export const SMD_LIMIT = 0.5;
export const PSI_LIMIT = 0.25;
const FLOOR = 1e-4;

export interface SignalSummary {
  /** Calibration rows that had the signal. */
  n: number;
  mean: number;
  sd: number;
  /** The 9 inner decile edges. */
  edges: number[];
  /** Share of the calibration rows in each of the 10 bins. */
  props: number[];
}

export type SignalReference = Partial<Record<FeatureName, SignalSummary>>;

export const EMBEDDING_DISTANCE = 'embedding_distance';

/** Where the calibration rows' embeddings lie: their normalised mean, and their cosine distances to it. */
export interface EmbeddingReference {
  centroid: number[];
  distance: SignalSummary;
}

function binOf(edges: number[], v: number): number {
  let b = 0;
  while (b < edges.length && v > edges[b]!) b++;
  return b;
}

/** Mean, sd, decile edges and bin shares of a sample (null below 10 values). */
function summarise(values: number[]): SignalSummary | null {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length < 10) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / v.length);
  const edges = Array.from({ length: 9 }, (_, i) => quantileSorted(v, (i + 1) / 10));
  const counts = new Array<number>(10).fill(0);
  for (const x of v) counts[binOf(edges, x)]!++;
  return { n: v.length, mean, sd, edges, props: counts.map((c) => c / v.length) };
}

export function signalReference(rows: ScoreRow[]): SignalReference {
  const ref: SignalReference = {};
  for (const f of FEATURES) {
    const s = summarise(rows.map((r) => feature(r, f)));
    if (s) ref[f] = s;
  }
  return ref;
}

/** 1 − cosine similarity of an embedding to a unit centroid. */
export function centroidDistance(embedding: ArrayLike<number>, centroid: ArrayLike<number>): number {
  let dot = 0;
  let norm = 0;
  for (let i = 0; i < centroid.length; i++) {
    dot += embedding[i]! * centroid[i]!;
    norm += embedding[i]! ** 2;
  }
  return norm > 0 ? 1 - dot / Math.sqrt(norm) : 1;
}

/** The embedding reference of rows that carry embeddings (null when they do not, or are too few). */
export function embeddingReference(rows: ScoreRow[]): EmbeddingReference | null {
  const first = rows[0]?.embedding;
  if (!first || rows.some((r) => r.embedding?.length !== first.length)) return null;
  const c = new Float64Array(first.length);
  for (const r of rows) for (let i = 0; i < c.length; i++) c[i] = c[i]! + r.embedding![i]!;
  const norm = Math.hypot(...c);
  if (!(norm > 0)) return null;
  const centroid = Array.from(c, (x) => x / norm);
  const distance = summarise(rows.map((r) => centroidDistance(r.embedding!, centroid)));
  return distance ? { centroid, distance } : null;
}

/** Streaming comparison of rows with a reference: add rows, then `report`. */
export class DriftMeter {
  private readonly n = new Map<string, number>();
  private readonly sum = new Map<string, number>();
  private readonly bins = new Map<string, number[]>();
  rows = 0;
  constructor(
    readonly reference: SignalReference,
    readonly embedding?: EmbeddingReference,
  ) {}

  private summaries(): [string, SignalSummary][] {
    const out = Object.entries(this.reference) as [string, SignalSummary][];
    return this.embedding ? [...out, [EMBEDDING_DISTANCE, this.embedding.distance]] : out;
  }

  add(row: ScoreRow): void {
    this.rows++;
    for (const [f, s] of this.summaries()) {
      const v =
        f === EMBEDDING_DISTANCE
          ? row.embedding
            ? centroidDistance(row.embedding, this.embedding!.centroid)
            : NaN
          : feature(row, f);
      if (Number.isNaN(v)) continue;
      this.n.set(f, (this.n.get(f) ?? 0) + 1);
      this.sum.set(f, (this.sum.get(f) ?? 0) + v);
      const b = this.bins.get(f) ?? new Array<number>(10).fill(0);
      b[binOf(s.edges, v)]!++;
      this.bins.set(f, b);
    }
  }

  report(): { smd: Record<string, number>; psi: Record<string, number>; drifting: string[] } {
    const smd: Record<string, number> = {};
    const psi: Record<string, number> = {};
    const drifting: string[] = [];
    for (const [f, s] of this.summaries()) {
      const n = this.n.get(f) ?? 0;
      if (n === 0) continue;
      smd[f] = s.sd > 0 ? (this.sum.get(f)! / n - s.mean) / s.sd : 0;
      const bins = this.bins.get(f)!;
      psi[f] = bins.reduce((a, c, i) => {
        const pin = Math.max(c / n, FLOOR);
        const pcal = Math.max(s.props[i]!, FLOOR);
        return a + (pin - pcal) * Math.log(pin / pcal);
      }, 0);
      const chance = (s.props.length - 1) * (1 / n + 1 / s.n);
      if (Math.abs(smd[f]!) > SMD_LIMIT || psi[f]! - chance > PSI_LIMIT) drifting.push(f);
    }
    return { smd, psi, drifting };
  }
}
