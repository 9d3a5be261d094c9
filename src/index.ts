/**
 * tailguard's library API. Entry points first — one function per command, taking the CLI's options in camelCase —
 * then the building blocks they are made of, room by room, then the errors every function may throw.
 */

// ── Entry points ─────────────────────────────────────────────────────────────────────────────────────────────────
export { scoreCorpus, exitCodeFor, type ScoreOptions, type RunSummary, type Progress } from './score/score-corpus.js';
export { calibrateFromInputs, type CalibrateInputOptions } from './detect/calibrate.js';
export {
  detectCorpus,
  ZERO_SHOT_FILE,
  type DetectOptions,
  type DetectSummary,
  type ZeroShotReference,
} from './detect/detect-corpus.js';
export { auditCorpus, calibrateFloors, type AuditOptions, type AuditSummary } from './audit/audit-corpus.js';
export {
  coverageRun,
  type CoverageOptions,
  type CoverageReport,
  type ExactDeviceRequest,
  type HnswReportFields,
} from './coverage/coverage-run.js';
export {
  coveragePrepare,
  coverageReduce,
  coverageShard,
  type CoveragePart,
  type CoveragePrepareOptions,
  type CoverageReduceOptions,
  type CoverageShardOptions,
  type PreparedRadii,
} from './coverage/coverage-shards.js';
export { weightsRun, type WeightsOptions, type WeightsReport } from './weights/weights-run.js';
export { tailsExport, type TailsExportOptions, type TailsExportSummary, type TailRow } from './tails/tails-export.js';
export { compareGenerations } from './diversity/compare.js';
export type { Ledger, GenerationEntry } from './diversity/ledger.js';
export { checkAnchor, type AnchorCheckOptions } from './anchor/check-anchor.js';
export type { AnchorReport, AnchorDocRef } from './anchor/report.js';
export type { AnchorLedger, AnchorLedgerEntry } from './anchor/ledger.js';
export { tailbench, type TailbenchOptions } from './tailbench/tailbench.js';
export type { TailbenchReport, TailbenchDocument, TailbenchRegion } from './tailbench/report.js';
export type { TailbenchLedger, TailbenchLedgerEntry } from './tailbench/ledger.js';
export {
  exportReviewQueue,
  QUEUE_COLUMNS,
  QUEUE_FILES,
  type QueueRow,
  type ReviewExportOptions,
  type ReviewExportSummary,
} from './review/export.js';
export { importReviews, type ReviewImportOptions, type ReviewImportSummary } from './review/import.js';
export { latestLabels, VERDICTS, type LogEntry, type ReviewVerdict } from './review/log.js';
export { mergeShards, type MergeOptions } from './score/shards/merge.js';
export { shardStatus, type ShardStatus } from './score/shards/status.js';

// ── Building blocks: sharded runs ─────────────────────────────────────────────────────────────────────────────────
export { parseShard, shardFromEnvironment, type ShardSpec } from './score/shards/from-env.js';
export { shardDirName, SHARD_FILES, type ShardManifest, type ShardDone } from './score/shards/layout.js';
export { isScoreDir, readRun, scoreRows, SCORE_FILES } from './score/score-dir.js';
export type { CorpusSlice } from './io/corpus-slice.js';

// ── Building blocks: models and the scoring graph ────────────────────────────────────────────────────────────────
export { resolveModel, DEFAULT_MODEL, type ResolvedModel } from './lm/model-dir.js';
export { readModelSpec, type ModelSpec } from './lm/model-config.js';
export { loadTokenizer, type TextTokenizer } from './lm/tokenizer.js';
export { createScoringSession, type ScoringSession } from './lm/session.js';
export { augmentForScoring, SCORING_INPUTS, SCORING_OUTPUTS } from './lm/onnx/augment.js';
export { planWindows, type Window } from './lm/windows.js';

// ── Building blocks: reading corpora, signals ────────────────────────────────────────────────────────────────────
export { duplicateIdsWarning, type DuplicateIds } from './score/duplicate-ids.js';
export { repeatedIds, type RepeatedIds, type RepeatsReport } from './io/repeated-ids.js';
export { openCorpus } from './io/open-corpus.js';
export { fileSplit, listCorpusFiles, resolveInputName } from './io/corpus-files.js';
export type { InputRecord, DocRecord, BadRecord, CorpusOptions } from './io/records.js';
export { lmSignals, type LmSignals, type TokenSums } from './signals/lm-signals.js';
export { textSignals, wordTokens, splitSentences, sentenceRanges, type TextSignals } from './signals/text-signals.js';
export { sentenceNllSd, spans, type Span, type PositionedSignals } from './signals/positioned.js';
export { SIGNAL_DEFINITIONS } from './signals/definitions.js';

// ── Building blocks: detection ───────────────────────────────────────────────────────────────────────────────────
export { FEATURES, type FeatureName, type ScoreRow } from './detect/features.js';
export {
  applyDetector,
  calibrateDetector,
  fitEnsemble,
  zeroShotDetector,
  DETECTOR_FORMAT,
  type DetectorFile,
  type DetectorSpec,
  type Verdict,
} from './detect/detector.js';
export { declaredProvenance, provenanceOf, type Provenance, type ProvenanceRules } from './detect/provenance.js';
export { estimateSyntheticShare, type ShareEstimate } from './detect/ratio.js';
export { auroc, thresholdAtFpr, minHumanForFpr } from './detect/metrics.js';
export { fitLogistic, predictLogit, crossValidate, type LogisticModel } from './detect/logistic.js';

// ── Building blocks: coverage, weights, diversity ────────────────────────────────────────────────────────────────
export {
  AnnIndex,
  exactKnn,
  recallAtK,
  recallAgainstExact,
  DEFAULT_INDEX_PARAMS,
  type IndexParams,
  type Neighbours,
} from './coverage/hnsw/ann-index.js';
export { prdc, type PrdcOptions, type PrdcResult, type Metric, type SideRadii } from './coverage/hnsw/prdc.js';
export { buildIndexPair, localPair, type IndexPair, type PairOptions } from './coverage/workers/index-pair.js';
export type { IndexHost } from './coverage/workers/index-host.js';
export { knnRadii, exactRadius, exactRadii, type Radii } from './coverage/hnsw/radii.js';
export { tuneEfSearch, DEFAULT_RECALL_TARGET, type EfTuning, type RecallTarget } from './coverage/hnsw/ef-tuning.js';
export {
  kmeans,
  assignAll,
  clusterTable,
  totalVariation,
  type Clustering,
  type ClusterRow,
} from './coverage/clusters.js';
export { loadVectors, sharedVectors, type DistanceMetric, type VectorSet } from './coverage/vectors.js';
export {
  exactPrdc,
  type ExactPrdcOptions,
  type ExactPrdcResult,
  type ExactSearchStats,
} from './coverage/exact/exact-prdc.js';
export type { ExactDevice } from './coverage/exact/tiles.js';
export { EXACT_WORK_BUDGET, exactWork, type SearchChoice, type SearchRequest } from './coverage/search-choice.js';
export { clusterWeights, type WeightResult } from './weights/weights.js';
export { ClassTermCounts, labelWords, type TopTerm } from './coverage/ctfidf.js';
export { regionLabels, type RegionLabel, type RegionLabels, type RegionLabelsInfo } from './coverage/region-labels.js';
export { rowTexts, type RowText } from './coverage/row-texts.js';
export {
  applyAnchorFrame,
  fitAnchorFrame,
  intoAnchorFrame,
  readAnchorFrame,
  saveAnchorFrame,
  MomentAccumulator,
  ANCHOR_FRAME_FILE,
  FRAME_METHODS,
  type AnchorFrame,
  type FrameMethod,
  type FrameRequest,
  type FrameSummary,
} from './coverage/anchor-frame.js';
export { symmetricEigen, type SymmetricEigen } from './stats/symmetric-eigen.js';
export { tailPlan, type TailPlan, type TailPlanRegion, type TailRegionShares } from './tails/tail-plan.js';
export {
  corpusDiversity,
  distinctN,
  selfBleu,
  vendiScore,
  meanCosineDistance,
  compressionRatio,
  type Diversity,
} from './diversity/metrics.js';
export { distinctAtBudget, type EqualSizeDistinct } from './diversity/equal-size.js';
export {
  generationVerdicts,
  metricVerdicts,
  type GenerationVerdict,
  type MetricEvidence,
  type MetricSeries,
  type Verdict as CollapseVerdict,
} from './diversity/verdict.js';

// ── Building blocks: anchor integrity ───────────────────────────────────────────────────────────────────────────
export { normaliseText, textHash, hash64, HashChains, type Hash64 } from './anchor/hashing.js';
export { readAnchorLedger } from './anchor/ledger.js';

// ── Building blocks: tail benchmark ─────────────────────────────────────────────────────────────────────────────
export {
  benchStats,
  type BenchStats,
  type BenchStatsOptions,
  type GapStat,
  type MeanStat,
} from './tailbench/bench-stats.js';
export { readTailbenchLedger } from './tailbench/ledger.js';
export {
  compareTailbenchGenerations,
  tailTrend,
  type Change,
  type Comparison,
  type TailTrend,
} from './tailbench/trend.js';

// ── Building blocks: shared statistics ───────────────────────────────────────────────────────────────────────────
/** fprUpperBound: the name before the shared statistics moved to src/stats (kept for callers). */
export {
  binomialUpperBound,
  binomialUpperBound as fprUpperBound,
  clopperPearson,
  bootstrapCi,
  bootstrapCiStratified,
  bootstrapCiByStrata,
  confidenceOfZ,
  normalCdf,
  quantileSorted,
  type Interval,
} from './stats/index.js';

// ── Errors ───────────────────────────────────────────────────────────────────────────────────────────────────────
export * from './errors.js';
