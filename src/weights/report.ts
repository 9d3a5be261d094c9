/** What `weights` writes to report.json and its HTML report reads (types only, so the report does not import the run). */
import type { FrameSummary } from '../coverage/anchor-frame.js';
import type { ClusterRow } from '../coverage/clusters.js';
import type { RegionLabel, RegionLabelsInfo } from '../coverage/region-labels.js';
import type { DistanceMetric, SetSummary } from '../coverage/vectors.js';
import type { RepeatsReport } from '../io/repeated-ids.js';

export interface WeightsReport {
  tool: 'tailguard';
  command: 'weights';
  reference: SetSummary;
  candidate: SetSummary;
  metric: DistanceMetric;
  /** The reference's frame the clusters were found in (anchor-frame.json in the output), or `none` (--no-whiten). */
  frame: FrameSummary;
  clusters: number;
  max_weight: number;
  down_weighted_by_p_synthetic: boolean;
  tv_before: number;
  tv_after: number;
  capped_documents: number;
  weight_summary: { min: number; median: number; max: number; mean: number };
  /** Per region: shares before and after, examples, and its label (most distinctive words, region-labels.ts). */
  per_cluster: (ClusterRow &
    RegionLabel & { weighted_share: number; mean_weight: number; example_texts: (string | null)[] })[];
  /** Why the example documents have no texts, when they have none (see example-texts.ts). */
  example_texts_missing?: string;
  /** How the region labels were made (absent when they could not be: region_labels_missing says why). */
  region_labels?: RegionLabelsInfo;
  region_labels_missing?: string;
  cannot_fix: { cluster: number; reference_share: number; note: string }[];
  /** Rows whose id an earlier row of the same set has, and what was done with them; absent when every id is unique. */
  duplicate_ids?: RepeatsReport<'reference' | 'candidate' | 'detections'>;
}
