/** tailguard's library API. */
export { scoreCorpus, exitCodeFor, type ScoreOptions, type RunSummary, type Progress } from './score/score-corpus.js';
export { resolveModel, DEFAULT_MODEL, type ResolvedModel } from './lm/model-dir.js';
export { readModelSpec, type ModelSpec } from './lm/model-config.js';
export { loadTokenizer, type TextTokenizer } from './lm/tokenizer.js';
export { createScoringSession, type ScoringSession } from './lm/session.js';
export { augmentForScoring, SCORING_INPUTS, SCORING_OUTPUTS } from './lm/onnx/augment.js';
export { planWindows, type Window } from './lm/windows.js';
export { lmSignals, type LmSignals, type TokenSums } from './signals/lm-signals.js';
export { openCorpus } from './io/open-corpus.js';
export type { InputRecord, DocRecord, BadRecord, CorpusOptions } from './io/records.js';
export * from './errors.js';
