/**
 * `detectCorpus`: scores (or reuses the scores of) a corpus, applies a detector to every scored row, labels its
 * provenance, and estimates the corpus's synthetic-to-real ratio.
 *
 * Outputs in `out`:
 *   detections.jsonl  one row per scored document, in input order: id, line, p_synthetic, score, verdict,
 *                     provenance, detector
 *   summary.json      counts per provenance label, the synthetic share and ratio with their confidence interval,
 *                     the detector used, and the scoring run
 *   scores/           the scoring run (when INPUT is a corpus rather than a score directory)
 * Rows that could not be scored are in the scoring run's errors.jsonl, counted in the summary.
 *
 * The synthetic share: rows with declared provenance count as they are; for the rest the detector's flag rate is
 * corrected for its measured TPR and FPR (ratio.ts). A detector without a measured TPR (zero-shot) cannot correct
 * it: the summary then gives the flag rate only and says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';

import { applyDetector, DETECTOR_FORMAT, zeroShotDetector, type DetectorFile, type DetectorSpec } from './detector.js';
import { declaredProvenance, provenanceOf, PROVENANCE_LABELS, type Provenance, type ProvenanceRules } from './provenance.js';
import { estimateSyntheticShare, type ShareEstimate } from './ratio.js';
import { ensureScored, modelIdentity, scoredDocs, type ScoringSettings } from './scored-input.js';

/** A model's human reference for the zero-shot default: written by the reference-LM recipe beside the model. */
export const ZERO_SHOT_FILE = 'zero-shot.json';
export interface ZeroShotReference {
  signal: 'fast_detect';
  source: string;
  /** The signal's oriented scores on the human reference, sorted ascending. */
  human_scores: number[];
}

export interface DetectOptions {
  input: string;
  out: string;
  /** detector.json from `calibrate`; default: the model's zero-shot Fast-DetectGPT at `zeroShotFpr`. */
  detector?: string;
  zeroShotFpr?: number;
  provenance?: Partial<ProvenanceRules>;
  scoring?: ScoringSettings;
  confidence?: number;
}

export interface DetectSummary {
  tool: 'tailguard';
  command: 'detect';
  input: string;
  detector: { source: string; kind: DetectorSpec['kind']; threshold: number; target_fpr: number; model: string; zero_shot: boolean };
  counts: { scored: number; errors: number } & Record<Provenance, number>;
  flagged_by_detector: { flagged: number; of: number; rate: number };
  synthetic: {
    share: number | null;
    share_ci: [number, number] | null;
    ratio: number | null;
    ratio_ci: [number, number] | null;
    confidence: number;
    corrected: boolean;
    note: string;
  };
  scores: string;
}

async function loadDetector(opts: DetectOptions, modelId: string, modelDir: string): Promise<{ file: DetectorFile; source: string; zeroShot: boolean }> {
  if (opts.detector) {
    let file: DetectorFile;
    try {
      file = JSON.parse(readFileSync(opts.detector, 'utf8')) as DetectorFile;
    } catch (err) {
      throw new UsageError(`cannot read detector ${opts.detector}: ${(err as Error).message}`);
    }
    if (file.format !== DETECTOR_FORMAT) throw new UsageError(`${opts.detector} is not a ${DETECTOR_FORMAT} file (format: ${String(file.format)})`);
    if (file.model !== modelId) {
      throw new UsageError(`${opts.detector} was calibrated on signals of ${file.model}, the input was scored with ${modelId}; score with the same model (--model) or calibrate again`);
    }
    return { file, source: resolve(opts.detector), zeroShot: false };
  }
  const refPath = join(modelDir, ZERO_SHOT_FILE);
  if (!existsSync(refPath)) {
    throw new UsageError(`no --detector given and ${modelId} has no zero-shot reference (${refPath}); run \`tailguard calibrate\` and pass --detector`);
  }
  const ref = JSON.parse(readFileSync(refPath, 'utf8')) as ZeroShotReference;
  const fpr = opts.zeroShotFpr ?? 0.01;
  const spec = zeroShotDetector(ref.signal, ref.human_scores, fpr);
  const file: DetectorFile = {
    format: DETECTOR_FORMAT,
    created_at: new Date().toISOString(),
    model: modelId,
    target_fpr: fpr,
    detector: spec,
    calibration: {
      n_human: ref.human_scores.length,
      n_synthetic: 0,
      folds: 0,
      stats: { auroc: NaN, auroc_ci: { lo: NaN, hi: NaN }, tpr_at_1pct_fpr: NaN, tpr_at_5pct_fpr: NaN, threshold_fpr: ref.human_scores.filter((s) => s > spec.threshold).length / ref.human_scores.length, threshold_tpr: NaN },
      candidates: {},
    },
  };
  return { file, source: `zero-shot ${ref.signal} (${refPath}, human reference: ${ref.source})`, zeroShot: true };
}

export async function detectCorpus(opts: DetectOptions): Promise<DetectSummary> {
  const out = resolve(opts.out);
  await mkdir(out, { recursive: true });
  const rules: ProvenanceRules = {
    humanValues: [], syntheticValues: [], humanSources: [], syntheticSources: [], ...opts.provenance,
  };
  const fields = [rules.provenanceField, rules.sourceField].filter((f): f is string => typeof f === 'string');
  const scored = await ensureScored(opts.input, join(out, 'scores'), opts.scoring ?? {});
  const modelId = modelIdentity(scored.run);
  const { file: det, source, zeroShot } = await loadDetector(opts, modelId, scored.run.model.dir);

  const counts = Object.fromEntries(PROVENANCE_LABELS.map((l) => [l, 0])) as Record<Provenance, number>;
  let scoredRows = 0;
  let undeclared = 0;
  let flagged = 0;
  const fh = await open(join(out, 'detections.jsonl.partial'), 'w');
  try {
    let buf = '';
    for await (const { row, fields: f } of scoredDocs(scored, fields)) {
      const v = applyDetector(det.detector, row);
      const declared = declaredProvenance(f, rules);
      const provenance = provenanceOf(declared, v.verdict);
      counts[provenance]++;
      scoredRows++;
      if (declared === null) {
        undeclared++;
        if (v.verdict === 'synthetic') flagged++;
      }
      buf += `${JSON.stringify({ id: row.id, line: row.line, p_synthetic: v.p_synthetic, score: v.score, verdict: v.verdict, provenance, detector: det.detector.kind })}\n`;
      if (buf.length > 1 << 16) {
        await fh.write(buf);
        buf = '';
      }
    }
    await fh.write(buf);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(join(out, 'detections.jsonl.partial'), join(out, 'detections.jsonl'));

  const confidence = opts.confidence ?? 0.95;
  const synthetic = syntheticShare(det, counts, scoredRows, undeclared, flagged, zeroShot, confidence);
  const summary: DetectSummary = {
    tool: 'tailguard',
    command: 'detect',
    input: resolve(opts.input),
    detector: { source, kind: det.detector.kind, threshold: det.detector.threshold, target_fpr: det.target_fpr, model: det.model, zero_shot: zeroShot },
    counts: { scored: scoredRows, errors: scored.errors, ...counts },
    flagged_by_detector: { flagged, of: undeclared, rate: undeclared ? flagged / undeclared : 0 },
    synthetic,
    scores: scored.scoresDir,
  };
  await writeFileAtomic(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

function syntheticShare(
  det: DetectorFile, counts: Record<Provenance, number>, n: number, undeclared: number, flagged: number, zeroShot: boolean, confidence: number,
): DetectSummary['synthetic'] {
  const known = counts['synthetic-known'];
  const toRatio = (s: number) => (s >= 1 ? Infinity : s / (1 - s));
  if (n === 0) return { share: null, share_ci: null, ratio: null, ratio_ci: null, confidence, corrected: false, note: 'no scored rows' };
  const c = det.calibration;
  if (zeroShot || c.n_synthetic === 0) {
    const share = (known + flagged) / n;
    return {
      share, share_ci: null, ratio: toRatio(share), ratio_ci: null, confidence, corrected: false,
      note: 'zero-shot detector: its true-positive rate was never measured, so this is the flag rate (plus declared synthetic rows), not a corrected estimate; calibrate a detector (tailguard calibrate) for an estimate with a confidence interval',
    };
  }
  let est: ShareEstimate | null = null;
  if (undeclared > 0) {
    est = estimateSyntheticShare(
      flagged, undeclared,
      { k: Math.round(c.stats.threshold_tpr * c.n_synthetic), n: c.n_synthetic },
      { k: Math.round(c.stats.threshold_fpr * c.n_human), n: c.n_human },
      { confidence },
    );
  }
  const combine = (restShare: number) => (known + restShare * undeclared) / n;
  const share = est ? combine(Number.isNaN(est.share) ? flagged / undeclared : est.share) : known / n;
  const lo = est ? combine(est.shareLo) : share;
  const hi = est ? combine(est.shareHi) : share;
  return {
    share, share_ci: [lo, hi], ratio: toRatio(share), ratio_ci: [toRatio(lo), toRatio(hi)], confidence, corrected: true,
    note: est && !est.identifiable
      ? "the detector barely separates the classes (TPR − FPR ≤ 0.05): the undeclared rows' share is unconstrained"
      : `undeclared rows corrected for the detector's calibration TPR ${c.stats.threshold_tpr.toFixed(3)} and FPR ${c.stats.threshold_fpr.toFixed(3)} (Rogan–Gladen, bootstrap interval)`,
  };
}

