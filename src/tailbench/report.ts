/** What `tailbench` writes: report.json (TailbenchReport) and documents.jsonl (TailbenchDocument rows). */
import type { BenchStats, GapStat, MeanStat } from './bench-stats.js';
import type { Comparison } from './trend.js';

/** One row of documents.jsonl: every reference document of the coverage run, in its order (null: not scored). */
export interface TailbenchDocument {
  id: string;
  reference_row: number;
  region: number;
  /** The region's label (coverage's report.json), null when it has none. */
  region_label: string | null;
  tail: boolean;
  /** The document's line in the anchor corpus. */
  line: number | null;
  tokens: number | null;
  bytes: number | null;
  /** Nats per token. */
  mean_nll: number | null;
  bits_per_byte: number | null;
}

export interface TailbenchRegion {
  region: number;
  label: string | null;
  status: string;
  tail: boolean;
  bits_per_byte: MeanStat;
  /** Nats per token (not comparable across tokenizers). */
  mean_nll: MeanStat;
}

export interface TailbenchReport {
  tool: 'tailguard';
  command: 'tailbench';
  model: { ref: string; dir: string; onnx: string };
  anchor: {
    path: string;
    corpus: string;
    /** The score directory read (null: scored into a temporary folder, removed). */
    scores: string | null;
    /** False when a score directory of the anchor by this model was given and read as it is. */
    scored_now: boolean;
    scored_rows: number;
    /** Anchor rows the model could not score (in the scoring run's errors.jsonl). */
    errors: number;
  };
  coverage: { dir: string; reference: string; reference_documents: number; tails: number[] };
  documents: { matched: number; reference_unscored: number; anchor_unmatched: number };
  unit: 'bits_per_byte';
  z: number;
  /** The two-sided confidence of ±z, 2Φ(z) − 1: the level of the gap's bootstrap interval. */
  confidence: number;
  resamples: number;
  seed: number;
  regions: TailbenchRegion[];
  /** In bits per byte. */
  tail: MeanStat | null;
  head: MeanStat | null;
  gap: GapStat | null;
  nats_per_token: Pick<BenchStats, 'tail' | 'head' | 'gap'>;
  ledger: {
    path: string;
    generation: string;
    generations: {
      generation: string;
      model: string;
      tail: number | null;
      head: number | null;
      gap: number | null;
    }[];
    vs_previous: Comparison | null;
    vs_first: Comparison | null;
  } | null;
  alarm: { fired: boolean; reasons: string[] };
  outputs: { report: string; documents: string; documents_parquet: string; anchor_scores: string } | null;
  warnings: string[];
}
