/**
 * The ledger `compare` writes (ledger.json, report.json) and its HTML report reads: one entry per generation, the
 * verdict rule, the flags. Types only (and the verdict metric names), so the report can read a ledger without
 * depending on the code that computes it.
 */
import type { FrameSummary } from '../coverage/anchor-frame.js';
import type { Metric, PrdcResult } from '../coverage/hnsw/prdc.js';
import type { EqualSizeDistinct } from './equal-size.js';
import type { Diversity } from './metrics.js';
import type { GenerationVerdict } from './verdict.js';

/** The metrics a verdict can rest on (`verdictMetrics`). */
export const VERDICT_METRICS = ['distinct-1', 'distinct-2', 'distinct-3', 'vendi', 'coverage'] as const;
export type VerdictMetric = (typeof VERDICT_METRICS)[number];
export const DEFAULT_VERDICT_METRICS: readonly VerdictMetric[] = ['distinct-2'];
export interface GenerationEntry {
  generation: number;
  source: string;
  documents: number;
  perplexity: number;
  diversity: Diversity;
  /** distinct-1..3 on the same number of n-grams in every generation (ledger.verdict_rule.budget), ± noise. */
  distinct_at_budget: { 1: EqualSizeDistinct; 2: EqualSizeDistinct; 3: EqualSizeDistinct };
  /** ef_tuning: each index's ef and self-query recall (ef-tuning.ts); `reached` false means approximate metrics. */
  coverage_of_gen0: {
    precision: Metric;
    recall: Metric;
    density: Metric;
    coverage: Metric;
    ef_tuning: PrdcResult['efSearch'];
  } | null;
  flagged_synthetic: { share: number; detector: string } | null;
  /** null for GEN0. */
  verdict: GenerationVerdict | null;
  /** Kept from ledger version 1: the reasons when the verdict is compounding loss, [] otherwise, null for GEN0. */
  early_collapse: string[] | null;
}

export interface VerdictRule {
  z: number;
  /** π²/6: the accumulation bound as a multiple of the GEN0 → GEN1 loss. */
  bound_factor: number;
  decisive: VerdictMetric[];
  /** n-grams per full sample of distinct-n at equal size, per n. */
  budget: { 1: number; 2: number; 3: number };
  replicates: number;
  /** GEN0's value of coverage in the trend: the expected coverage of a same-distribution sample of its size. */
  coverage_anchor: number;
  summary: string;
}

export interface Ledger {
  tool: 'tailguard';
  command: 'compare';
  /** 2: verdicts, distinct-n at equal size; `flags` and `early_collapse` now mean compounding loss. */
  ledger_version: 2;
  k: number;
  /**
   * The frame embeddings were measured in (Vendi, cosine distance, coverage): GEN0's, fitted on it or reused
   * (OUT/anchor-frame.json), or `none` (--no-whiten). Absent in ledgers written before the frame (as `none`).
   */
  frame?: FrameSummary;
  verdict_rule: VerdictRule;
  generations: GenerationEntry[];
  /** Generations whose verdict is compounding loss, with the evidence. */
  flags: { generation: number; reasons: string[] }[];
}
