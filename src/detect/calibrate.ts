/**
 * `calibrateFromInputs`: scores (or reuses the scores of) a human and a synthetic set, fits the detectors
 * (detector.ts; per domain with a domain field, domains.ts) and writes detector.json, and beside it the out-of-fold
 * score of every calibration row (oofPath: what every rate in detector.json is computed from). Scoring caches live
 * beside the output: OUT.scores/{human,synthetic}.
 * With `reviewed` (a `tailguard review import` log), each document's latest human/machine verdict overrides the set
 * its rows came from (reviewed.ts); detector.json's `reviewed` says how many rows moved.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { calibrate, type DetectorFile } from './detector.js';
import { calibrateByDomainWithOof } from './domains.js';
import { DEFAULT_FEATURE_GROUPS, type FeatureGroup, type ScoreRow } from './features.js';
import { ensureScored, modelIdentity, scoredDocs, type ScoredInput, type ScoringSettings } from './scored-input.js';
import { applyReviewed } from './reviewed.js';
import { latestLabels } from '../review/log.js';

export interface CalibrateInputOptions {
  human: string;
  synthetic: string;
  out: string;
  fpr?: number;
  /** One detector per value of this field (with enough examples), plus the pooled one for the rest. */
  domainField?: string;
  minPerClass?: number;
  folds?: number;
  innerFolds?: number;
  /** A fixed penalty instead of the cross-validated choice. */
  l2?: number;
  l2Grid?: readonly number[];
  deviationGrid?: readonly number[];
  /** Feature groups (default DEFAULT_FEATURE_GROUPS). */
  features?: readonly FeatureGroup[];
  seed?: number;
  scoring?: ScoringSettings;
  /** A review log (`tailguard review import`): reviewed labels override the sets' labels for those ids. */
  reviewed?: string;
  /**
   * With `reviewed`: a score directory or corpus (e.g. the one the review queue came from) whose reviewed documents
   * that are in neither set are added with their reviewed label.
   */
  reviewedScores?: string;
}

/** detector.json → detector.oof.jsonl (any other name: NAME.oof.jsonl). */
export function oofPath(detectorPath: string): string {
  return detectorPath.endsWith('.json') ? `${detectorPath.slice(0, -5)}.oof.jsonl` : `${detectorPath}.oof.jsonl`;
}

async function collect(
  scored: ScoredInput,
  domainField: string | undefined,
  embeddings: boolean,
  keep?: (id: string) => boolean,
): Promise<{ rows: ScoreRow[]; domains: (string | undefined)[] }> {
  const rows: ScoreRow[] = [];
  const domains: (string | undefined)[] = [];
  for await (const { row, fields } of scoredDocs(scored, domainField ? [domainField] : [], undefined, { embeddings })) {
    if (keep && !keep(row.id)) continue;
    rows.push(row);
    const d = domainField ? fields[domainField] : undefined;
    domains.push(d === undefined || d === null ? undefined : String(d));
  }
  return { rows, domains };
}

export async function calibrateFromInputs(opts: CalibrateInputOptions): Promise<DetectorFile> {
  const out = resolve(opts.out);
  if (opts.reviewed !== undefined && !existsSync(opts.reviewed))
    throw new UsageError(`${opts.reviewed}: no such review log (\`reviewed\`)`);
  if (opts.reviewedScores !== undefined && opts.reviewed === undefined)
    throw new UsageError('`reviewedScores` adds reviewed documents: give the review log too (`reviewed`)');
  mkdirSync(dirname(out), { recursive: true });
  const human = await ensureScored(opts.human, `${out}.scores/human`, opts.scoring ?? {});
  const synthetic = await ensureScored(opts.synthetic, `${out}.scores/synthetic`, opts.scoring ?? {});
  const model = modelIdentity(human.run);
  if (modelIdentity(synthetic.run) !== model) {
    throw new UsageError(
      `the human set was scored with ${model}, the synthetic set with ${modelIdentity(synthetic.run)}: signals of different models cannot be calibrated together`,
    );
  }
  const features = opts.features ?? DEFAULT_FEATURE_GROUPS;
  const collected = {
    human: await collect(human, opts.domainField, features.includes('embedding')),
    synthetic: await collect(synthetic, opts.domainField, features.includes('embedding')),
  };
  let extra: Awaited<ReturnType<typeof collect>> | undefined;
  if (opts.reviewedScores !== undefined) {
    const reviewedRun = await ensureScored(opts.reviewedScores, `${out}.scores/reviewed`, opts.scoring ?? {});
    if (modelIdentity(reviewedRun.run) !== model)
      throw new UsageError(
        `the reviewed documents (\`reviewedScores\`) were scored with ${modelIdentity(reviewedRun.run)}, the calibration sets with ${model}`,
      );
    // Only the reviewed rows are kept: the corpus a queue came from may be far larger than calibration.
    const { labels } = await latestLabels(opts.reviewed!);
    extra = await collect(reviewedRun, opts.domainField, features.includes('embedding'), (id) => labels.has(id));
  }
  const reviewed = opts.reviewed ? await applyReviewed(opts.reviewed, { ...collected, extra }) : undefined;
  const { human: h, synthetic: s } = reviewed?.sets ?? collected;
  const common = {
    targetFpr: opts.fpr ?? 0.01,
    folds: opts.folds,
    innerFolds: opts.innerFolds,
    l2: opts.l2,
    l2Grid: opts.l2Grid,
    seed: opts.seed,
    model,
    features,
  };
  const { file, outOfFold } = opts.domainField
    ? calibrateByDomainWithOof(h.rows, s.rows, {
        ...common,
        field: opts.domainField,
        humanDomains: h.domains,
        syntheticDomains: s.domains,
        minPerClass: opts.minPerClass,
        deviationGrid: opts.deviationGrid,
      })
    : calibrate(h.rows, s.rows, common);
  if (reviewed) file.reviewed = reviewed.provenance;
  await writeFileAtomic(out, `${JSON.stringify(file, null, 2)}\n`);
  await writeFileAtomic(
    oofPath(out),
    outOfFold.ids
      .map(
        (id, i) =>
          `${JSON.stringify({
            id,
            label: outOfFold.labels[i] === 1 ? 'synthetic' : 'human',
            ...(outOfFold.domains ? { domain: outOfFold.domains[i] ?? null } : {}),
            fold: outOfFold.fold[i],
            score: outOfFold.scores[i],
            threshold: outOfFold.thresholds[i],
            flagged: outOfFold.scores[i]! > outOfFold.thresholds[i]!,
          })}\n`,
      )
      .join(''),
  );
  return file;
}
