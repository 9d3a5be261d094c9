/**
 * `exportReviewQueue`: the human review queue, weighted toward the cases a detector or a gate cannot settle.
 * Candidates and their reasons (select.ts ranks them and shares out the budget):
 *   near_threshold  every detection whose provenance the input did not declare, by |score − threshold| of the
 *                   detector that scored it (pooled, per domain, or zero-shot: summary.json beside detections.jsonl,
 *                   and the detector.json it names for per-domain thresholds);
 *   tail_region     the ids of a `tails` JSONL file (rows with `id`; `region`/`cluster` and `text` are carried along);
 *   held_batch      the rows of batches an `audit` held (its decisions.jsonl, reasons from batches.jsonl).
 * A document taken for one reason is listed with every reason it has: near_threshold when its distance is within the
 * band (the largest distance taken for near_threshold), tail_region / held_batch when it is in those inputs.
 * Texts are joined by id from the scored corpus (the score directory of the detections, or `scores`) or a tails row's
 * `text`; a document whose text cannot be found is still queued, with text null, and counted.
 *
 * Every input is streamed twice (rank, then annotate the ≤ budget documents taken): memory is O(budget).
 * Outputs in `out` (an existing queue is not overwritten without `overwrite`: it may hold verdicts):
 *   queue.jsonl         one row per document, in queue order, with empty verdict / reviewer / comment / reviewed_at
 *   queue.csv           the same columns (reasons joined by ';')
 *   label-studio.json   Label Studio tasks, data: {id, text, reasons}
 *   label-studio.xml    the labeling config: human / machine / unsure, and a comment
 *   review.json         the budget rule, band, candidate and queue counts per reason, inputs
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TailguardError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { JsonlWriter } from '../io/jsonl-writer.js';
import { openCorpus } from '../io/open-corpus.js';
import { corpusFields, isScoreDir, readRun } from '../score/score-dir.js';
import { toCsv } from './csv.js';
import { jsonlRows, rowId } from './json-rows.js';
import { LABEL_STUDIO_CONFIG, labelStudioTasks } from './label-studio.js';
import { BestK, REASONS, seededKey, takeInTurns, type Ranked, type Reason } from './select.js';

export interface ReviewExportOptions {
  /** detections.jsonl of `tailguard detect`, or its output directory. */
  detections: string;
  /** An `audit` output directory: rows of its held batches are candidates. */
  audit?: string;
  /** JSONL of tail documents (rows with `id`), as `tailguard tails export` writes. */
  tails?: string;
  /** Score directory whose corpus gives the texts (default: the one summary.json names). */
  scores?: string;
  out: string;
  /** Documents in the queue (default 100). */
  budget?: number;
  /** Seed of the tail and held-batch samples (default 1). */
  seed?: number;
  /** Replace an existing queue in `out`. */
  overwrite?: boolean;
}

export const QUEUE_FILES = {
  jsonl: 'queue.jsonl',
  csv: 'queue.csv',
  labelStudio: 'label-studio.json',
  labelStudioConfig: 'label-studio.xml',
  summary: 'review.json',
} as const;

/** One document of the queue. The last four fields are the reviewer's. */
export interface QueueRow {
  rank: number;
  id: string;
  reasons: Reason[];
  /** The reason whose turn took it. */
  selected_for: Reason;
  /** The reasons in words: distances, regions, the batch's failed floors. */
  why: string;
  text: string | null;
  line: number | null;
  score: number | null;
  threshold: number | null;
  distance: number | null;
  p_synthetic: number | null;
  detector_verdict: string | null;
  detector: string | null;
  region: string | null;
  batch: number | null;
  verdict: string;
  reviewer: string;
  comment: string;
  reviewed_at: string;
}

export const QUEUE_COLUMNS: readonly (keyof QueueRow)[] = [
  'rank',
  'id',
  'reasons',
  'selected_for',
  'why',
  'text',
  'line',
  'score',
  'threshold',
  'distance',
  'p_synthetic',
  'detector_verdict',
  'detector',
  'region',
  'batch',
  'verdict',
  'reviewer',
  'comment',
  'reviewed_at',
];

export interface ReviewExportSummary {
  tool: 'tailguard';
  command: 'review export';
  inputs: { detections: string; summary: string; audit: string | null; tails: string | null; scores: string | null };
  budget: number;
  seed: number;
  rule: string;
  /** near_threshold: the largest |score − threshold| taken (null: none taken), in each detector's score units. */
  band: number | null;
  candidates: Record<Reason, number | null>;
  /** Detections left out of near_threshold because the input declared their provenance. */
  declared_provenance_skipped: number;
  queued: number;
  /** Documents taken in each reason's turn, and documents listed with each reason. */
  selected_for: Record<Reason, number>;
  with_reason: Record<Reason, number>;
  texts_missing: number;
  warnings: string[];
  outputs: Record<keyof typeof QUEUE_FILES, string>;
}

export const BUDGET_RULE =
  'the reasons present (near_threshold, tail_region, held_batch, in that order) take one document each in turn until the budget is spent; a document already taken is passed over, so each reason gets an equal share (±1) and a reason with fewer candidates leaves the rest to the others. near_threshold ranks by |score − threshold|, tail_region and held_batch by a seeded hash of the id (a uniform sample).';

interface DetectionInfo {
  line: number | null;
  score: number;
  threshold: number;
  distance: number;
  p_synthetic: number | null;
  verdict: string | null;
  provenance: string | null;
  detector: string;
}

const DECLARED = new Set(['human-verified', 'synthetic-known']);

function readJson<T>(path: string, what: string): T {
  if (!existsSync(path)) throw new UsageError(`${path}: no such ${what}`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new TailguardError(`${path}: not a readable ${what} (${(err as Error).message})`);
  }
}

/** The threshold of each detector named in detections.jsonl: the summary's, and per domain from its detector.json. */
function thresholds(summaryPath: string): { of: (name: string) => number | undefined; scores: string | null } {
  const summary = readJson<{
    detector?: { threshold?: number; source?: string; zero_shot?: boolean };
    scores?: string;
  }>(summaryPath, 'detect summary.json');
  const base = summary.detector?.threshold;
  if (typeof base !== 'number') throw new TailguardError(`${summaryPath}: no detector.threshold`);
  let domains: Record<string, number> | undefined;
  const domainThresholds = (): Record<string, number> => {
    if (domains) return domains;
    const src = summary.detector?.source;
    if (summary.detector?.zero_shot || !src || !existsSync(src))
      throw new TailguardError(
        `${summaryPath}: detections name per-domain detectors, but the detector file it names (${src ?? 'none'}) is not there to give their thresholds`,
      );
    const file = readJson<{ domains?: { detectors?: Record<string, { detector: { threshold: number } }> } }>(
      src,
      'detector file',
    );
    domains = Object.fromEntries(
      Object.entries(file.domains?.detectors ?? {}).map(([d, v]) => [d, v.detector.threshold]),
    );
    return domains;
  };
  return {
    of: (name) => (name.startsWith('domain:') ? domainThresholds()[name.slice('domain:'.length)] : base),
    scores: typeof summary.scores === 'string' ? summary.scores : null,
  };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);

/** A detections.jsonl row as a near_threshold candidate (null: its provenance is declared, or it has no score). */
function detectionInfo(
  r: { row: Record<string, unknown>; line: number },
  path: string,
  thresholdOf: (name: string) => number | undefined,
): DetectionInfo | 'declared' | null {
  const provenance = str(r.row.provenance);
  if (provenance !== null && DECLARED.has(provenance)) return 'declared';
  const score = num(r.row.score);
  if (score === null) return null;
  const detector = str(r.row.detector);
  if (detector === null)
    throw new TailguardError(`${path}:${r.line}: no "detector" field (the detector that scored the row)`);
  const threshold = thresholdOf(detector);
  if (threshold === undefined)
    throw new TailguardError(`${path}:${r.line}: no threshold is known for detector ${detector}`);
  return {
    line: num(r.row.line),
    score,
    threshold,
    distance: Math.abs(score - threshold),
    p_synthetic: num(r.row.p_synthetic),
    verdict: str(r.row.verdict),
    provenance,
    detector,
  };
}

export async function exportReviewQueue(opts: ReviewExportOptions): Promise<ReviewExportSummary> {
  const budget = opts.budget ?? 100;
  if (!(Number.isInteger(budget) && budget >= 1))
    throw new UsageError(`\`budget\` must be a positive integer (got ${budget})`);
  const seed = opts.seed ?? 1;
  if (!(Number.isInteger(seed) && seed >= 0)) throw new UsageError(`\`seed\` must be an integer ≥ 0 (got ${seed})`);
  const detections =
    existsSync(opts.detections) && statSync(opts.detections).isDirectory()
      ? join(opts.detections, 'detections.jsonl')
      : opts.detections;
  if (!existsSync(detections)) throw new UsageError(`${detections}: no such detections file (\`detections\`)`);
  const summaryPath = join(resolve(detections, '..'), 'summary.json');
  const th = thresholds(summaryPath);
  const decisionsPath = opts.audit ? join(opts.audit, 'decisions.jsonl') : undefined;
  if (decisionsPath && !existsSync(decisionsPath))
    throw new UsageError(`${decisionsPath}: no such file; \`audit\` must be a \`tailguard audit\` output directory`);
  if (opts.tails && !existsSync(opts.tails)) throw new UsageError(`${opts.tails}: no such tails file (\`tails\`)`);
  const out = resolve(opts.out);
  if (!opts.overwrite) {
    for (const f of [QUEUE_FILES.jsonl, QUEUE_FILES.csv])
      if (existsSync(join(out, f)))
        throw new UsageError(
          `${join(out, f)} exists and may hold verdicts: import them first, or pass \`overwrite\` to replace the queue`,
        );
  }

  // Pass 1: rank each reason's candidates, keeping the best 2 × budget.
  const keep = 2 * budget;
  const ranked: Partial<Record<Reason, Ranked[]>> = {};
  const candidates: Record<Reason, number | null> = { near_threshold: 0, tail_region: null, held_batch: null };
  let declared = 0;
  const near = new BestK(keep);
  for await (const r of jsonlRows(detections, 'detections file')) {
    const id = rowId(r, detections);
    const info = detectionInfo(r, detections, th.of);
    if (info === 'declared') declared++;
    if (info === null || info === 'declared') continue;
    candidates.near_threshold!++;
    near.offer({ id, key: info.distance, order: r.line });
  }
  ranked.near_threshold = near.sorted();
  if (opts.tails) {
    const tails = new BestK(keep);
    candidates.tail_region = 0;
    for await (const r of jsonlRows(opts.tails, 'tails file')) {
      const id = rowId(r, opts.tails);
      candidates.tail_region++;
      tails.offer({ id, key: seededKey(seed, 'tail_region', id), order: r.line });
    }
    ranked.tail_region = tails.sorted();
  }
  const heldReasons = new Map<number, string[]>();
  if (decisionsPath) {
    const held = new BestK(keep);
    candidates.held_batch = 0;
    for await (const r of jsonlRows(decisionsPath, 'audit decisions file')) {
      if (r.row.decision !== 'held') continue;
      const id = rowId(r, decisionsPath);
      candidates.held_batch++;
      held.offer({ id, key: seededKey(seed, 'held_batch', id), order: r.line });
    }
    ranked.held_batch = held.sorted();
    const batchesPath = join(opts.audit!, 'batches.jsonl');
    if (existsSync(batchesPath))
      for await (const r of jsonlRows(batchesPath, 'audit batches file')) {
        const b = num(r.row.batch);
        if (b !== null && r.row.decision === 'HOLD_FOR_REVIEW' && Array.isArray(r.row.reasons))
          heldReasons.set(b, r.row.reasons.map(String));
      }
  }
  const picks = takeInTurns(ranked, budget);
  const nearKey = new Map(ranked.near_threshold.map((c) => [c.id, c.key]));
  const nearPicked = picks.filter((p) => p.reason === 'near_threshold').map((p) => nearKey.get(p.id)!);
  const band = nearPicked.length > 0 ? Math.max(...nearPicked) : null;

  // Pass 2: what each document taken is (detection, tail row, held row, text).
  const wanted = new Set(picks.map((p) => p.id));
  const det = new Map<string, DetectionInfo>();
  for await (const r of jsonlRows(detections, 'detections file')) {
    const id = rowId(r, detections);
    if (!wanted.has(id)) continue;
    const info = detectionInfo(r, detections, th.of);
    // A repeated id: its nearest row, the one near_threshold may have ranked it by.
    const prev = det.get(id);
    if (info !== null && info !== 'declared' && (!prev || info.distance < prev.distance)) det.set(id, info);
  }
  const tail = new Map<string, { region: string | null; text: string | null }>();
  if (opts.tails)
    for await (const r of jsonlRows(opts.tails, 'tails file')) {
      const id = rowId(r, opts.tails);
      if (wanted.has(id) && !tail.has(id))
        tail.set(id, { region: str(r.row.region ?? r.row.cluster), text: str(r.row.text) });
    }
  const held = new Map<string, number | null>();
  if (decisionsPath)
    for await (const r of jsonlRows(decisionsPath, 'audit decisions file')) {
      if (r.row.decision !== 'held') continue;
      const id = rowId(r, decisionsPath);
      if (wanted.has(id) && !held.has(id)) held.set(id, num(r.row.batch));
    }
  const warnings: string[] = [];
  const texts = await joinTexts(opts.scores ?? th.scores, wanted, warnings);

  const rows: QueueRow[] = picks.map((p) => {
    const d = det.get(p.id);
    const t = tail.get(p.id);
    const reasons: Reason[] = [];
    const why: string[] = [];
    if (d && band !== null && d.distance <= band) {
      reasons.push('near_threshold');
      why.push(
        `score ${d.score.toFixed(4)} is ${d.distance.toFixed(4)} from the threshold ${d.threshold.toFixed(4)} (detector ${d.detector}; band ${band.toFixed(4)})`,
      );
    }
    if (t) {
      reasons.push('tail_region');
      why.push(t.region !== null ? `in tail region ${t.region}` : 'in a tail region');
    }
    if (held.has(p.id)) {
      reasons.push('held_batch');
      const b = held.get(p.id)!;
      const rs = b !== null ? heldReasons.get(b) : undefined;
      why.push(`in held audit batch ${b ?? '?'}${rs && rs.length ? ` (${rs.join('; ')})` : ''}`);
    }
    const text = texts.get(p.id) ?? t?.text ?? null;
    return {
      rank: p.rank,
      id: p.id,
      reasons,
      selected_for: p.reason,
      why: why.join('; '),
      text,
      line: d?.line ?? null,
      score: d?.score ?? null,
      threshold: d?.threshold ?? null,
      distance: d?.distance ?? null,
      p_synthetic: d?.p_synthetic ?? null,
      detector_verdict: d?.verdict ?? null,
      detector: d?.detector ?? null,
      region: t?.region ?? null,
      batch: held.get(p.id) ?? null,
      verdict: '',
      reviewer: '',
      comment: '',
      reviewed_at: '',
    };
  });
  const textsMissing = rows.filter((r) => r.text === null).length;
  if (textsMissing > 0)
    warnings.push(
      `${textsMissing} of ${rows.length} queued documents have no text (not found by id in the scored corpus nor in the tails file); they are queued with text null`,
    );

  await mkdir(out, { recursive: true });
  const outputs = Object.fromEntries(Object.entries(QUEUE_FILES).map(([k, f]) => [k, join(out, f)])) as Record<
    keyof typeof QUEUE_FILES,
    string
  >;
  const w = await JsonlWriter.create(outputs.jsonl);
  for (const r of rows) await w.write(r);
  await w.close();
  await writeFileAtomic(outputs.csv, toCsv(QUEUE_COLUMNS, rows as unknown as Record<string, unknown>[]));
  await writeFileAtomic(outputs.labelStudio, `${JSON.stringify(labelStudioTasks(rows), null, 2)}\n`);
  await writeFileAtomic(outputs.labelStudioConfig, LABEL_STUDIO_CONFIG);
  const count = (f: (r: QueueRow, reason: Reason) => boolean) =>
    Object.fromEntries(REASONS.map((reason) => [reason, rows.filter((r) => f(r, reason)).length])) as Record<
      Reason,
      number
    >;
  const summary: ReviewExportSummary = {
    tool: 'tailguard',
    command: 'review export',
    inputs: {
      detections: resolve(detections),
      summary: summaryPath,
      audit: opts.audit ? resolve(opts.audit) : null,
      tails: opts.tails ? resolve(opts.tails) : null,
      scores: opts.scores ?? th.scores,
    },
    budget,
    seed,
    rule: BUDGET_RULE,
    band,
    candidates,
    declared_provenance_skipped: declared,
    queued: rows.length,
    selected_for: count((r, reason) => r.selected_for === reason),
    with_reason: count((r, reason) => r.reasons.includes(reason)),
    texts_missing: textsMissing,
    warnings,
    outputs,
  };
  await writeFileAtomic(outputs.summary, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

/** Texts of the wanted ids from the corpus a score directory was scored from (first row of each id). */
async function joinTexts(
  scoresDir: string | null,
  wanted: Set<string>,
  warnings: string[],
): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  if (scoresDir === null || !isScoreDir(scoresDir)) {
    warnings.push(`no score directory to read texts from (${scoresDir ?? 'none named'}): pass \`scores\``);
    return texts;
  }
  const run = readRun(scoresDir);
  if (!existsSync(run.input)) {
    warnings.push(
      `${run.input}, the corpus ${scoresDir} was scored from, is gone: texts come from the tails file only`,
    );
    return texts;
  }
  for await (const rec of openCorpus(run.input, corpusFields(run))) {
    if (rec.kind === 'doc' && wanted.has(rec.id) && !texts.has(rec.id)) {
      texts.set(rec.id, rec.text);
      if (texts.size === wanted.size) break;
    }
  }
  return texts;
}
