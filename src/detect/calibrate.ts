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
}

/** detector.json → detector.oof.jsonl (any other name: NAME.oof.jsonl). */
export function oofPath(detectorPath: string): string {
  return detectorPath.endsWith('.json') ? `${detectorPath.slice(0, -5)}.oof.jsonl` : `${detectorPath}.oof.jsonl`;
}

async function collect(
  scored: ScoredInput,
  domainField: string | undefined,
  embeddings: boolean,
): Promise<{ rows: ScoreRow[]; domains: (string | undefined)[] }> {
  const rows: ScoreRow[] = [];
  const domains: (string | undefined)[] = [];
  for await (const { row, fields } of scoredDocs(scored, domainField ? [domainField] : [], undefined, { embeddings })) {
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
  const reviewed = opts.reviewed ? await applyReviewed(opts.reviewed, collected) : undefined;
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
