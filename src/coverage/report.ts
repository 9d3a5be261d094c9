/**
 * What `coverage` writes to report.json and its HTML report reads: types and one accessor, so that report/ depends
 * on what it renders and not on the code that computes it.
 */
import type { RepeatsReport } from '../io/repeated-ids.js';
import type { FrameSummary } from './anchor-frame.js';
import type { ClusterRow } from './clusters.js';
import type { ExactSearchStats } from './exact/exact-prdc.js';
import type { EfTuning } from './hnsw/ef-tuning.js';
import type { ExactBalls, Metric } from './hnsw/prdc.js';
import type { IndexParams } from './hnsw/ann-index.js';
import type { Radii } from './hnsw/radii.js';
import type { RegionLabel, RegionLabelsInfo } from './region-labels.js';
import type { SearchChoice } from './search-choice.js';
import type { DistanceMetric, SetSummary } from './vectors.js';

/** The HNSW path's account of itself (prdc.ts): in report.json only when search.used is 'hnsw'. */
export interface HnswReportFields {
  probe: number;
  max_probe: number;
  /** Balls larger than max_probe, and points whose membership check hit it too (see prdc.ts); all 0 normally. */
  capped: {
    reference_balls: number;
    candidate_balls: number;
    unchecked_candidates: number;
    unchecked_reference: number;
  };
  /** Balls that held more than max_probe points and were counted exactly instead, radii by exact search (`shrunk`: smaller than the index's). */
  exact_balls: { reference: ExactBalls; candidate: ExactBalls };
  /**
   * The index parameters asked for (efSearch: where the tuning started), each index's ef after tuning to the recall
   * target (ef-tuning.ts; `reached` false: the metrics are approximate), recall@k of candidate queries against exact
   * search on a sample, and points an index could not reach even from their own position (radii.ts).
   */
  index: IndexParams & {
    ef_tuning: { reference: EfTuning; candidate: EfTuning };
    recall_at_k: number;
    recall_sample: number;
    unreachable: { reference: number; candidate: number };
    /** Points reached only by a search with a much wider candidate list (radii.ts). */
    widened_search: { reference: number; candidate: number };
    /** Radii that stood out from their neighbours' and were recomputed by exact search, and how many that made smaller (radii.ts). */
    radius_outliers: { reference: Radii['outliers']; candidate: Radii['outliers'] };
  };
}

export interface CoverageReport extends Partial<HnswReportFields> {
  tool: 'tailguard';
  command: 'coverage';
  reference: SetSummary;
  candidate: SetSummary;
  dim: number;
  k: number;
  metric: DistanceMetric;
  /** The reference's frame both sets were measured in (anchor-frame.json in the output), or `none` (--no-whiten). */
  frame: FrameSummary;
  /** Which search ran and why (search-choice.ts). HNSW's fields (probe … index) are present only when it was HNSW; exact_search only when exact. */
  search: SearchChoice;
  /** Exact search's device, threads, tile, and the pairs and points it settled in float64 (exact/exact-prdc.ts). */
  exact_search?: ExactSearchStats;
  /** Present when the report is the reduce of candidate shards (coverage-shards.ts); exact_search then sums theirs. */
  sharded?: { shards: number };
  precision: Metric;
  recall: Metric;
  density: Metric;
  coverage: Metric;
  /**
   * Regions of the reference (k-means): shares, coverage within each, examples, and a label (its most distinctive
   * words, region-labels.ts); the thin and absent ones are the tails. reference.jsonl and candidate.jsonl give each
   * document's region.
   */
  clusters: (ClusterRow & RegionLabel & { coverage: number; example_texts: (string | null)[] })[];
  tails: number[];
  /** Why the example documents have no texts, when they have none (see example-texts.ts). */
  example_texts_missing?: string;
  /** How the region labels were made (absent when they could not be: region_labels_missing says why). */
  region_labels?: RegionLabelsInfo;
  region_labels_missing?: string;
  /** Rows whose id an earlier row of the same set has, and what was done with them; absent when every id is unique. */
  duplicate_ids?: RepeatsReport<'reference' | 'candidate'>;
}

/** The HNSW path's fields of a report, when HNSW ran. */
export function hnswFields(r: CoverageReport): HnswReportFields | undefined {
  const { probe, max_probe, capped, exact_balls, index } = r;
  return probe !== undefined && max_probe !== undefined && capped && exact_balls && index
    ? { probe, max_probe, capped, exact_balls, index }
    : undefined;
}
