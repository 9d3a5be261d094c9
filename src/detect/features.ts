/**
 * The per-document signals a detector reads, from a `score` row. Every detector works on "higher = more likely
 * machine-written" scores, so each signal carries its orientation: machine text is more predictable under a
 * reference LM (lower NLL, log-rank and entropy, higher Fast-DetectGPT curvature) and, per the seeds' ensemble
 * rule, less bursty and less varied in vocabulary. The orientation is a prior for zero-shot use; calibrated
 * detectors learn their own signs (they flip between domains).
 */
import { TailguardError, UsageError } from '../errors.js';
import { TOKEN_DISTRIBUTION_FIELDS } from '../signals/token-distribution.js';

/** The row format belongs to the score directory (score/score-dir.ts); re-exported for detection's callers. */
import type { ScoreRow } from '../score/score-dir.js';
export type { ScoreRow };

/** The scalar signals of the calibrated detector, in this order. `log_words` lets it condition on document length. */
export const FEATURES = [
  'mean_nll',
  'mean_entropy',
  'mean_log_rank',
  'fast_detect',
  'burstiness',
  'sentence_nll_sd',
  'ttr',
  'mattr',
  'word_entropy',
  'gzip_ratio',
  'log_words',
] as const;

/**
 * Groups of detector features (calibrate --features):
 *   signals     FEATURES above
 *   tokens      the per-token distribution signals (signals/token-distribution.ts)
 *   embedding   every coordinate of the document embedding, named `embedding:<i>`
 *   binoculars  the two-model score (rows scored with an observer model)
 */
export const FEATURE_GROUPS = ['signals', 'tokens', 'embedding', 'binoculars'] as const;
export type FeatureGroup = (typeof FEATURE_GROUPS)[number];
/** What `calibrate` uses unless told otherwise (bench/detect.md measures the choice). */
export const DEFAULT_FEATURE_GROUPS: readonly FeatureGroup[] = ['signals', 'tokens', 'embedding'];
export const EMBEDDING_PREFIX = 'embedding:';

/** The feature names of `groups`, in a fixed order (signals, tokens, binoculars, then the embedding's coordinates). */
export function featureNames(groups: readonly FeatureGroup[], embeddingDim: number): string[] {
  for (const g of groups)
    if (!(FEATURE_GROUPS as readonly string[]).includes(g))
      throw new UsageError(`unknown feature group '${g}' (expected ${FEATURE_GROUPS.join(', ')})`);
  const names: string[] = [];
  if (groups.includes('signals')) names.push(...FEATURES);
  if (groups.includes('tokens')) names.push(...TOKEN_DISTRIBUTION_FIELDS);
  if (groups.includes('binoculars')) names.push('binoculars');
  if (groups.includes('embedding')) for (let i = 0; i < embeddingDim; i++) names.push(`${EMBEDDING_PREFIX}${i}`);
  return names;
}

/** Whether a feature is a coordinate of the embedding (never given a per-domain deviation). */
export const isEmbeddingFeature = (name: string): boolean => name.startsWith(EMBEDDING_PREFIX);

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
export const ZERO_SHOT_SIGNALS = [
  'fast_detect',
  'mean_nll',
  'mean_log_rank',
  'mean_entropy',
] as const satisfies readonly FeatureName[];

export class MissingSignalError extends TailguardError {
  override name = 'MissingSignalError';
  constructor(
    readonly id: string,
    readonly field: string,
    hint = 'score rows from an older tailguard? re-run `tailguard score`',
  ) {
    super(`row ${id}: no numeric '${field}' (${hint})`);
  }
}

export class MissingEmbeddingError extends TailguardError {
  override name = 'MissingEmbeddingError';
  constructor(readonly id: string) {
    super(
      `row ${id}: the detector reads the document embedding, and none was read with it (score directories keep it in embeddings.npy)`,
    );
  }
}

/** The row's value of a feature; NaN for an optional signal the row lacks. */
export function feature(row: ScoreRow, name: string): number {
  if (name.startsWith(EMBEDDING_PREFIX)) {
    const i = Number(name.slice(EMBEDDING_PREFIX.length));
    const e = row.embedding;
    if (!e) throw new MissingEmbeddingError(row.id);
    if (!(i < e.length)) throw new MissingSignalError(row.id, name);
    return e[i]!;
  }
  const v = name === 'log_words' ? Math.log1p(Number(row.words)) : row[name];
  if ((v === null || v === undefined) && OPTIONAL_FEATURES.has(name as FeatureName)) return NaN;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    if (name === 'binoculars') throw new MissingSignalError(row.id, name, 'score with `observerModel` to have it');
    throw new MissingSignalError(row.id, name === 'log_words' ? 'words' : name);
  }
  return v;
}

export function featureVector(row: ScoreRow, names: readonly string[] = FEATURES): number[] {
  return names.map((n) => feature(row, n));
}

/** A signal turned into a "higher = machine" score. */
export function orientedScore(row: ScoreRow, name: FeatureName): number {
  return MACHINE_DIRECTION[name] * feature(row, name);
}
