/**
 * The per-document signals a detector reads, from a `score` row. Every detector works on "higher = more likely
 * machine-written" scores, so each signal carries its orientation: machine text is more predictable under a
 * reference LM (lower NLL, log-rank and entropy, higher Fast-DetectGPT curvature) and, per the seeds' ensemble
 * rule, less bursty and less varied in vocabulary. The orientation is a prior for zero-shot use; calibrated
 * detectors learn their own signs (they flip between domains).
 */
import { TailguardError } from '../errors.js';
import type { LmSignals } from '../signals/lm-signals.js';
import type { TextSignals } from '../signals/text-signals.js';

export type ScoreRow = { id: string; line: number } & LmSignals & TextSignals & Record<string, unknown>;

/** Features of the calibrated detector, in this order. `log_words` lets it condition on document length. */
export const FEATURES = [
  'mean_nll', 'mean_entropy', 'mean_log_rank', 'fast_detect', 'burstiness', 'sentence_nll_sd', 'ttr', 'mattr', 'word_entropy', 'gzip_ratio', 'log_words',
] as const;

/** Signals a row may lack (null: the tokens could not be placed on the text); detectors impute them. */
export const OPTIONAL_FEATURES: ReadonlySet<FeatureName> = new Set(['sentence_nll_sd']);
export type FeatureName = (typeof FEATURES)[number];

/** +1: higher value = more machine-like; -1: lower value = more machine-like. */
export const MACHINE_DIRECTION: Record<FeatureName, 1 | -1> = {
  mean_nll: -1,
  mean_entropy: -1,
  mean_log_rank: -1,
  fast_detect: 1,
  burstiness: -1,
  sentence_nll_sd: -1,
  ttr: -1,
  mattr: -1,
  word_entropy: -1,
  gzip_ratio: -1,
  log_words: 1,
};

/** The signals usable alone, zero-shot (Fast-DetectGPT and the single LM statistics, as in the literature). */
export const ZERO_SHOT_SIGNALS = ['fast_detect', 'mean_nll', 'mean_log_rank', 'mean_entropy'] as const satisfies readonly FeatureName[];

export class MissingSignalError extends TailguardError {
  override name = 'MissingSignalError';
  constructor(readonly id: string, readonly field: string) {
    super(`row ${id}: no numeric '${field}' (score rows from an older tailguard? re-run \`tailguard score\`)`);
  }
}

/** The row's value of a signal; NaN for an optional signal the row lacks. */
export function feature(row: ScoreRow, name: FeatureName): number {
  const v = name === 'log_words' ? Math.log1p(Number(row.words)) : row[name];
  if ((v === null || v === undefined) && OPTIONAL_FEATURES.has(name)) return NaN;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new MissingSignalError(row.id, name === 'log_words' ? 'words' : name);
  return v;
}

export function featureVector(row: ScoreRow, names: readonly FeatureName[] = FEATURES): number[] {
  return names.map((n) => feature(row, n));
}

/** A signal turned into a "higher = machine" score. */
export function orientedScore(row: ScoreRow, name: FeatureName): number {
  return MACHINE_DIRECTION[name] * feature(row, name);
}
