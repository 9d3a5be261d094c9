/**
 * `calibrateFromInputs`: scores (or reuses the scores of) a human and a synthetic set, fits the detectors
 * (detector.ts; per domain with a domain field, domains.ts) and writes detector.json. Scoring caches live beside the
 * output: OUT.scores/{human,synthetic}.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { calibrateDetector, type DetectorFile } from './detector.js';
import { calibrateByDomain } from './domains.js';
import type { ScoreRow } from './features.js';
import { ensureScored, modelIdentity, scoredDocs, type ScoredInput, type ScoringSettings } from './scored-input.js';

export interface CalibrateInputOptions {
  human: string;
  synthetic: string;
  out: string;
  fpr?: number;
  /** One detector per value of this field (with enough examples), plus the pooled one for the rest. */
  domainField?: string;
  minPerClass?: number;
  folds?: number;
  l2?: number;
  seed?: number;
  scoring?: ScoringSettings;
}

async function collect(scored: ScoredInput, domainField: string | undefined): Promise<{ rows: ScoreRow[]; domains: (string | undefined)[] }> {
  const rows: ScoreRow[] = [];
  const domains: (string | undefined)[] = [];
  for await (const { row, fields } of scoredDocs(scored, domainField ? [domainField] : [])) {
    rows.push(row);
    const d = domainField ? fields[domainField] : undefined;
    domains.push(d === undefined || d === null ? undefined : String(d));
  }
  return { rows, domains };
}

export async function calibrateFromInputs(opts: CalibrateInputOptions): Promise<DetectorFile> {
  const out = resolve(opts.out);
  mkdirSync(dirname(out), { recursive: true });
  const human = await ensureScored(opts.human, `${out}.scores/human`, opts.scoring ?? {});
  const synthetic = await ensureScored(opts.synthetic, `${out}.scores/synthetic`, opts.scoring ?? {});
  const model = modelIdentity(human.run);
  if (modelIdentity(synthetic.run) !== model) {
    throw new UsageError(`the human set was scored with ${model}, the synthetic set with ${modelIdentity(synthetic.run)}: signals of different models cannot be calibrated together`);
  }
  const h = await collect(human, opts.domainField);
  const s = await collect(synthetic, opts.domainField);
  const common = { targetFpr: opts.fpr ?? 0.01, folds: opts.folds, l2: opts.l2, seed: opts.seed, model };
  const detector = opts.domainField
    ? calibrateByDomain(h.rows, s.rows, { ...common, field: opts.domainField, humanDomains: h.domains, syntheticDomains: s.domains, minPerClass: opts.minPerClass })
    : calibrateDetector(h.rows, s.rows, common);
  await writeFileAtomic(out, `${JSON.stringify(detector, null, 2)}\n`);
  return detector;
}
