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
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { duplicateIdsWarning } from '../score/duplicate-ids.js';
import { writeFileAtomic } from '../io/atomic.js';
import { JsonlWriter } from '../io/jsonl-writer.js';

import {
  applyDetector,
  DETECTOR_FORMAT,
  READABLE_DETECTOR_FORMATS,
  zeroShotDetector,
  type DetectorFile,
  type DetectorSpec,
} from './detector.js';
import {
  declaredProvenance,
  provenanceOf,
  PROVENANCE_LABELS,
  type Provenance,
  type ProvenanceRules,
} from './provenance.js';
import { POOLED, routeDetector } from './domains.js';
import { DriftMeter } from './drift.js';
import { bootstrapCiStratified, clopperPearson, take, type Interval } from '../stats/index.js';
import { auroc } from './metrics.js';
import { estimateSyntheticShare, type ShareEstimate } from './ratio.js';
import { isEmbeddingFeature } from './features.js';
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
  /** Field holding each row's domain (default: the one the detector was calibrated with). */
  domainField?: string;
  scoring?: ScoringSettings;
  confidence?: number;
}

export interface DetectSummary {
  tool: 'tailguard';
  command: 'detect';
  input: string;
  detector: {
    source: string;
    kind: DetectorSpec['kind'];
    threshold: number;
    target_fpr: number;
    model: string;
    zero_shot: boolean;
  };
  counts: { scored: number; errors: number } & Record<Provenance, number>;
  flagged_by_detector: { flagged: number; of: number; rate: number };
  /** With a domain field: per domain value, its rows, the detector that scored them and the drift check. */
  domain_field?: string;
  domains?: Record<
    string,
    {
      rows: number;
      detector: string;
      seen_in_calibration: boolean;
      drift?: ReturnType<DriftMeter['report']>;
      warning?: string;
    }
  >;
  /**
   * How the detector did on the rows whose provenance is declared (judged like every other row, their labels
   * unseen by it): null when none are declared.
   */
  evaluation: Evaluation | null;
  /** Without a domain field: the whole input against the calibration set. */
  drift?: ReturnType<DriftMeter['report']>;
  /** Loud problems: domains never calibrated on, inputs outside the calibration distribution. */
  warnings: string[];
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

export interface RateWithInterval {
  value: number;
  /** Exact Clopper–Pearson 95% interval. */
  ci: Interval;
  k: number;
  n: number;
}

/** A detector measured on labelled rows: counts, FPR and TPR at its thresholds, AUROC of its scores. */
export interface EvaluationStats {
  n_human: number;
  n_synthetic: number;
  /** Declared human rows it flags / declared human rows. */
  fpr: RateWithInterval | null;
  /** Declared synthetic rows it flags / declared synthetic rows. */
  tpr: RateWithInterval | null;
  /** Of its scores, with a stratified percentile-bootstrap 95% interval (400 resamples, seed 1); null without both classes. */
  auroc: { value: number; ci: Interval } | null;
}

export interface Evaluation extends EvaluationStats {
  note: string;
  /** The same per routed detector ('pooled', 'domain:X'). */
  by_detector: Record<string, EvaluationStats>;
}

function rate(k: number, n: number): RateWithInterval | null {
  return n === 0 ? null : { value: k / n, ci: clopperPearson(k, n), k, n };
}

/** Evaluation statistics of labelled detections (label 1 = declared synthetic). */
export function evaluationStats(scores: number[], labels: (0 | 1)[], flagged: boolean[]): EvaluationStats {
  let nh = 0,
    ns = 0,
    fp = 0,
    tp = 0;
  labels.forEach((l, i) => {
    if (l === 1) {
      ns++;
      if (flagged[i]) tp++;
    } else {
      nh++;
      if (flagged[i]) fp++;
    }
  });
  const both = nh > 0 && ns > 0;
  return {
    n_human: nh,
    n_synthetic: ns,
    fpr: rate(fp, nh),
    tpr: rate(tp, ns),
    auroc: both
      ? {
          value: auroc(scores, labels),
          ci: bootstrapCiStratified((idx) => auroc(take(scores, idx), take(labels, idx)), labels, {
            resamples: 400,
            seed: 1,
          }),
        }
      : null,
  };
}

/** A detector.json, read and checked for its format (before any scoring, so that a bad path fails at once). */
export function readDetectorFile(path: string): DetectorFile {
  let file: DetectorFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as DetectorFile;
  } catch (err) {
    throw new UsageError(`cannot read detector ${path}: ${(err as Error).message}`);
  }
  if (!READABLE_DETECTOR_FORMATS.includes(file.format))
    throw new UsageError(
      `${path} is not a ${READABLE_DETECTOR_FORMATS.join(' or ')} file (format: ${String(file.format)})`,
    );
  return file;
}

/** The model's zero-shot detector at `fpr` on its human reference (zero-shot.json), or null when it has none. */
export function modelZeroShot(
  modelDir: string,
  fpr: number,
): { spec: DetectorSpec & { kind: 'signal' }; reference: ZeroShotReference; path: string } | null {
  const path = join(modelDir, ZERO_SHOT_FILE);
  if (!existsSync(path)) return null;
  const reference = JSON.parse(readFileSync(path, 'utf8')) as ZeroShotReference;
  return { spec: zeroShotDetector(reference.signal, reference.human_scores, fpr), reference, path };
}

function loadDetector(
  given: { file: DetectorFile; path: string } | undefined,
  fpr: number,
  modelId: string,
  modelDir: string,
): { file: DetectorFile; source: string; zeroShot: boolean } {
  if (given) {
    const { file, path } = given;
    if (file.model !== modelId) {
      throw new UsageError(
        `${path} was calibrated on signals of ${file.model}, the input was scored with ${modelId}; score with the same model (\`model\`) or calibrate again`,
      );
    }
    return { file, source: resolve(path), zeroShot: false };
  }
  const zs = modelZeroShot(modelDir, fpr);
  if (!zs) {
    throw new UsageError(
      `no \`detector\` given and ${modelId} has no zero-shot reference (${join(modelDir, ZERO_SHOT_FILE)}); run \`tailguard calibrate\` and pass \`detector\``,
    );
  }
  const { spec, reference: ref, path: refPath } = zs;
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
      stats: {
        auroc: NaN,
        auroc_ci: { lo: NaN, hi: NaN },
        tpr_at_1pct_fpr: NaN,
        tpr_at_1pct_fpr_ci: { lo: NaN, hi: NaN },
        tpr_at_5pct_fpr: NaN,
        tpr_at_5pct_fpr_ci: { lo: NaN, hi: NaN },
        threshold_fpr: ref.human_scores.filter((s) => s > spec.threshold).length / ref.human_scores.length,
        threshold_tpr: NaN,
      },
      candidates: {},
    },
  };
  return { file, source: `zero-shot ${ref.signal} (${refPath}, human reference: ${ref.source})`, zeroShot: true };
}

export async function detectCorpus(opts: DetectOptions): Promise<DetectSummary> {
  const out = resolve(opts.out);
  await mkdir(out, { recursive: true });
  const rules: ProvenanceRules = {
    humanValues: [],
    syntheticValues: [],
    humanSources: [],
    syntheticSources: [],
    ...opts.provenance,
  };
  const given = opts.detector ? { file: readDetectorFile(opts.detector), path: opts.detector } : undefined;
  const scored = await ensureScored(opts.input, join(out, 'scores'), opts.scoring ?? {});
  const modelId = modelIdentity(scored.run);
  const { file: det, source, zeroShot } = loadDetector(given, opts.zeroShotFpr ?? 0.01, modelId, scored.run.model.dir);
  const domainField = opts.domainField ?? det.domains?.field;
  const fields = [rules.provenanceField, rules.sourceField, domainField].filter(
    (f): f is string => typeof f === 'string',
  );

  const counts = Object.fromEntries(PROVENANCE_LABELS.map((l) => [l, 0])) as Record<Provenance, number>;
  let scoredRows = 0;
  const byDetector = new Map<string, { undeclared: number; flagged: number }>();
  const domains = new Map<string, { rows: number; detector: string; seen: boolean; drift: DriftMeter | null }>();
  const wantDim = embeddingDim(det);
  // Without a domain field, the whole input is compared with the calibration set.
  let overall: DriftMeter | null | undefined;
  const labelled: { score: number; label: 0 | 1; flagged: boolean; detector: string }[] = [];
  const detections = await JsonlWriter.create(join(out, 'detections.jsonl'));
  try {
    for await (const { row, fields: f } of scoredDocs(scored, fields, undefined, {
      embeddings: readsEmbeddings(det),
    })) {
      if (wantDim > 0 && row.embedding && row.embedding.length !== wantDim) {
        throw new UsageError(
          `the detector reads ${wantDim}-dimensional document embeddings, the input's are ${row.embedding.length}-dimensional: score with the model it was calibrated with`,
        );
      }
      const raw = domainField ? f[domainField] : undefined;
      const domain = raw === undefined || raw === null ? undefined : String(raw);
      const route = routeDetector(det, domain);
      const v = applyDetector(route.spec, row);
      const declared = declaredProvenance(f, rules);
      const provenance = provenanceOf(declared, v.verdict);
      counts[provenance]++;
      scoredRows++;
      const d = byDetector.get(route.name) ?? { undeclared: 0, flagged: 0 };
      if (declared === null) {
        d.undeclared++;
        if (v.verdict === 'synthetic') d.flagged++;
      } else {
        labelled.push({
          score: v.score,
          label: declared === 'synthetic-known' ? 1 : 0,
          flagged: v.verdict === 'synthetic',
          detector: route.name,
        });
      }
      byDetector.set(route.name, d);
      if (domainField) {
        const key = domain ?? '(none)';
        let dm = domains.get(key);
        if (!dm) {
          const own = domain !== undefined ? det.domains?.detectors[domain] : undefined;
          const reference = own ? own.reference : det.reference;
          const embedding = own ? own.reference_embedding : det.reference_embedding;
          dm = {
            rows: 0,
            detector: route.name,
            seen: route.seen,
            drift: reference ? new DriftMeter(reference, embedding) : null,
          };
          domains.set(key, dm);
        }
        dm.rows++;
        dm.drift?.add(row);
      } else {
        overall ??= det.reference ? new DriftMeter(det.reference, det.reference_embedding) : null;
        overall?.add(row);
      }
      await detections.write({
        id: row.id,
        line: row.line,
        p_synthetic: v.p_synthetic,
        score: v.score,
        verdict: v.verdict,
        provenance,
        detector: zeroShot
          ? `zero-shot:${route.spec.kind === 'signal' ? route.spec.signal : route.spec.kind}`
          : route.name,
        ...(domainField ? { domain: domain ?? null } : {}),
      });
    }
  } catch (err) {
    await detections.abandon();
    throw err;
  }
  await detections.close();

  // Rows are joined with their corpus fields by line, so repeated ids lose nothing here; said for detections.jsonl's readers.
  const repeats = duplicateIdsWarning(scored.run.duplicate_ids);
  const warnings: string[] = repeats ? [repeats] : [];
  const domainReport: DetectSummary['domains'] = {};
  for (const [key, dm] of [...domains].sort((a, b) => b[1].rows - a[1].rows)) {
    const drift = dm.drift?.report();
    let warning: string | undefined;
    const problems: string[] = [];
    if (det.domains && !dm.seen && key !== '(none)') {
      problems.push(
        'was never seen in calibration: scored by the pooled detector, whose threshold and error rates were not measured on it',
      );
    } else if (det.domains?.detectors[key]?.threshold_source === 'common') {
      const e = det.domains.detectors[key]!.fpr_estimate;
      problems.push(
        `uses the common threshold, which its ${e?.n_human ?? 'few'} calibration humans cannot certify` +
          (e
            ? ` (estimated FPR ${(100 * e.value).toFixed(1)}%, 95% CI ${(100 * e.ci.lo).toFixed(1)}–${(100 * e.ci.hi).toFixed(1)}%)`
            : ''),
      );
    }
    if (drift && drift.drifting.length > 0 && dm.rows >= 20) {
      const worst = drift.drifting
        .map((f) => `${f} (shift ${drift.smd[f]!.toFixed(2)} sd, PSI ${drift.psi[f]!.toFixed(2)})`)
        .join(', ');
      problems.push(`drifts from what its detector (${dm.detector}) was calibrated on: ${worst}`);
    }
    if (problems.length > 0) warning = `domain '${key}' (${dm.rows} rows) ${problems.join('; and it ')}`;
    if (warning) warnings.push(warning);
    domainReport[key] = {
      rows: dm.rows,
      detector: dm.detector,
      seen_in_calibration: dm.seen,
      ...(drift ? { drift } : {}),
      ...(warning ? { warning } : {}),
    };
  }

  const overallDrift = overall?.report();
  if (overallDrift && overallDrift.drifting.length > 0 && overall!.rows >= 20) {
    const worst = overallDrift.drifting
      .map((f) => `${f} (shift ${overallDrift.smd[f]!.toFixed(2)} sd, PSI ${overallDrift.psi[f]!.toFixed(2)})`)
      .join(', ');
    warnings.push(
      `the input (${overall!.rows} rows) drifts from what the detector was calibrated on: ${worst}; its FPR was not measured on text like this`,
    );
  }
  const confidence = opts.confidence ?? 0.95;
  const synthetic = syntheticShare(det, byDetector, counts, scoredRows, zeroShot, confidence);
  const undeclared = [...byDetector.values()].reduce((a, d) => a + d.undeclared, 0);
  const flagged = [...byDetector.values()].reduce((a, d) => a + d.flagged, 0);
  const summary: DetectSummary = {
    tool: 'tailguard',
    command: 'detect',
    input: resolve(opts.input),
    detector: {
      source,
      kind: det.detector.kind,
      threshold: det.detector.threshold,
      target_fpr: det.target_fpr,
      model: det.model,
      zero_shot: zeroShot,
    },
    counts: { scored: scoredRows, errors: scored.errors, ...counts },
    flagged_by_detector: { flagged, of: undeclared, rate: undeclared ? flagged / undeclared : 0 },
    synthetic,
    evaluation: evaluate(labelled),
    ...(domainField
      ? { domain_field: domainField, domains: domainReport }
      : overallDrift
        ? { drift: overallDrift }
        : {}),
    warnings,
    scores: scored.scoresDir,
  };
  await writeFileAtomic(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

function evaluate(rows: { score: number; label: 0 | 1; flagged: boolean; detector: string }[]): Evaluation | null {
  if (rows.length === 0) return null;
  const of = (rs: typeof rows) =>
    evaluationStats(
      rs.map((r) => r.score),
      rs.map((r) => r.label),
      rs.map((r) => r.flagged),
    );
  const names = [...new Set(rows.map((r) => r.detector))].sort();
  return {
    note: "rows whose provenance is declared, judged by the detector like every other row; FPR and TPR at each routed detector's threshold",
    ...of(rows),
    by_detector: Object.fromEntries(names.map((n) => [n, of(rows.filter((r) => r.detector === n))])),
  };
}

/** The embedding size the file's detectors read (0: none). */
function embeddingDim(det: DetectorFile): number {
  const specs = [det.detector, ...Object.values(det.domains?.detectors ?? {}).map((d) => d.detector)];
  const dims = specs.map((s) =>
    s.kind === 'logistic' ? (s.model.features ?? []).filter(isEmbeddingFeature).length : 0,
  );
  return Math.max(0, ...dims, det.reference_embedding?.centroid.length ?? 0);
}

/** Whether any of the file's detectors reads the document embedding. */
function readsEmbeddings(det: DetectorFile): boolean {
  const specs = [det.detector, ...Object.values(det.domains?.detectors ?? {}).map((d) => d.detector)];
  return (
    specs.some((s) => s.kind === 'logistic' && (s.model.features ?? []).some(isEmbeddingFeature)) ||
    det.reference_embedding !== undefined
  );
}

/** The calibration behind a detector name ('pooled' or 'domain:X'). */
function calibrationOf(det: DetectorFile, name: string): DetectorFile['calibration'] {
  return name === POOLED ? det.calibration : det.domains!.detectors[name.slice('domain:'.length)]!.calibration;
}

/**
 * Declared synthetic rows count as they are. The undeclared rows of each detector are corrected for that
 * detector's calibration TPR and FPR; the shares add up weighted by rows, and so do the interval ends (a
 * conservative interval: the detectors' errors are treated as perfectly correlated).
 */
function syntheticShare(
  det: DetectorFile,
  byDetector: Map<string, { undeclared: number; flagged: number }>,
  counts: Record<Provenance, number>,
  n: number,
  zeroShot: boolean,
  confidence: number,
): DetectSummary['synthetic'] {
  const known = counts['synthetic-known'];
  const toRatio = (s: number) => (s >= 1 ? Infinity : s / (1 - s));
  if (n === 0)
    return {
      share: null,
      share_ci: null,
      ratio: null,
      ratio_ci: null,
      confidence,
      corrected: false,
      note: 'no scored rows',
    };
  if (zeroShot || det.calibration.n_synthetic === 0) {
    const flagged = [...byDetector.values()].reduce((a, d) => a + d.flagged, 0);
    const share = (known + flagged) / n;
    return {
      share,
      share_ci: null,
      ratio: toRatio(share),
      ratio_ci: null,
      confidence,
      corrected: false,
      note: 'zero-shot detector: its true-positive rate was never measured, so this is the flag rate (plus declared synthetic rows), not a corrected estimate; calibrate a detector (tailguard calibrate) for an estimate with a confidence interval',
    };
  }
  let point = known;
  let lo = known;
  let hi = known;
  let identifiable = true;
  for (const [name, d] of byDetector) {
    if (d.undeclared === 0) continue;
    const c = calibrationOf(det, name);
    const est: ShareEstimate = estimateSyntheticShare(
      d.flagged,
      d.undeclared,
      { k: Math.round(c.stats.threshold_tpr * c.n_synthetic), n: c.n_synthetic },
      { k: Math.round(c.stats.threshold_fpr * c.n_human), n: c.n_human },
      { confidence },
    );
    identifiable &&= est.identifiable;
    point += (Number.isNaN(est.share) ? d.flagged / d.undeclared : est.share) * d.undeclared;
    lo += est.shareLo * d.undeclared;
    hi += est.shareHi * d.undeclared;
  }
  const [share, sLo, sHi] = [point / n, lo / n, hi / n];
  const c = det.calibration;
  return {
    share,
    share_ci: [sLo, sHi],
    ratio: toRatio(share),
    ratio_ci: [toRatio(sLo), toRatio(sHi)],
    confidence,
    corrected: true,
    note: !identifiable
      ? "a detector barely separates the classes (TPR − FPR ≤ 0.05): its rows' share is unconstrained"
      : byDetector.size > 1
        ? "undeclared rows corrected for each routed detector's calibration TPR and FPR (Rogan–Gladen, bootstrap intervals added up)"
        : `undeclared rows corrected for the detector's calibration TPR ${c.stats.threshold_tpr.toFixed(3)} and FPR ${c.stats.threshold_fpr.toFixed(3)} (Rogan–Gladen, bootstrap interval)`,
  };
}
