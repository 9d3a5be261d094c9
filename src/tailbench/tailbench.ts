/**
 * `tailbench`: how a model (one generation's ONNX model directory) does on the anchor's tail regions against its
 * head. The anchor is scored by the model (anchor-scores.ts), each document's bits per byte joined by id to its
 * region in a coverage run's reference.jsonl (the coverage run whose reference is this anchor), and summarised per
 * region, tail vs head and their gap, with intervals (bench-stats.ts). With a ledger the generation is recorded and
 * compared with the previous and the first (trend.ts): the alarm is a tail that degrades while the head holds.
 *
 * Bits per byte = mean_nll · tokens / (ln 2 · UTF-8 bytes): the unit that stays comparable when generations'
 * tokenizers differ (nats per token do not); nats per token are reported beside it. Memory: one id and a few numbers
 * per anchor document. Outputs in `out` (optional): report.json, documents.jsonl and .parquet, anchor-scores/ (the
 * scoring run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { forEachJsonlRowSync } from '../io/jsonl-rows-sync.js';
import { JsonlWriter } from '../io/jsonl-writer.js';
import { jsonlToParquet } from '../io/parquet-from-jsonl.js';
import { textSource } from '../coverage/example-texts.js';
import { DEFAULT_MODEL } from '../lm/model-dir.js';
import { confidenceOfZ } from '../stats/index.js';
import { readCoverageReport, regionCounts } from '../tails/tails-export.js';
import { anchorDocs, anchorScores, type AnchorScoring } from './anchor-scores.js';
import { benchStats } from './bench-stats.js';
import { recordTailbench } from './ledger.js';
import type { TailbenchDocument, TailbenchReport } from './report.js';
import { tailTrend } from './trend.js';

/** documents.parquet's column types (nullable: a reference document without a score has nulls). */
const DOCUMENT_COLUMNS = {
  id: 'STRING',
  reference_row: 'INT64',
  region: 'INT64',
  region_label: 'STRING',
  tail: 'BOOLEAN',
  line: 'INT64',
  tokens: 'INT64',
  bytes: 'INT64',
  mean_nll: 'DOUBLE',
  bits_per_byte: 'DOUBLE',
} as const;

export interface TailbenchOptions {
  /** The model under test: a model directory, bundled model name or hub id (default: the bundled default). */
  model?: string;
  /** The human anchor: the corpus the coverage run's reference was scored from, or a score directory of it. */
  anchor: string;
  /** A `tailguard coverage` output directory whose reference is the anchor (report.json, reference.jsonl). */
  coverage: string;
  /** Output directory; without it nothing but the ledger is written (the scoring goes to a temporary folder). */
  out?: string;
  /** Tailbench ledger to record this generation in, under the name `generation`. */
  ledger?: string;
  generation?: string;
  /** Intervals are ±z standard errors (bootstrap: at the confidence 2Φ(z) − 1). Default 1.96. */
  z?: number;
  /** Bootstrap resamples for the gap (default 1000) and their seed (default 1). */
  resamples?: number;
  seed?: number;
  /** How the anchor is scored: ONNX file, fields, device, workers… (`score`'s options). */
  scoring?: Omit<AnchorScoring, 'model'>;
}

function checkOptions(o: TailbenchOptions): void {
  if (o.z !== undefined && !(Number.isFinite(o.z) && o.z > 0))
    throw new UsageError(`\`z\` must be a positive number, got ${o.z}`);
  if (o.resamples !== undefined && !(Number.isInteger(o.resamples) && o.resamples >= 1))
    throw new UsageError(`\`resamples\` must be a positive integer, got ${o.resamples}`);
  if ((o.ledger === undefined) !== (o.generation === undefined))
    throw new UsageError('`ledger` and `generation` go together: the ledger records a generation by its name');
  if (o.generation !== undefined && o.generation.trim() === '')
    throw new UsageError('`generation` must name the generation');
}

export async function tailbench(opts: TailbenchOptions): Promise<TailbenchReport> {
  checkOptions(opts);
  const z = opts.z ?? 1.96;
  const model = opts.model ?? DEFAULT_MODEL;
  const covDir = resolve(opts.coverage);
  const cov = readCoverageReport(covDir);
  const refPath = join(covDir, 'reference.jsonl');
  regionCounts(refPath, cov); // checks every row's region against report.json
  const k = cov.clusters.length;
  const tails = new Set(cov.tails);

  // Reference rows by id, in order (an id that repeats is matched occurrence by occurrence).
  const refIds: string[] = [];
  const refRegion = new Int32Array(cov.reference.documents);
  const rowsOfId = new Map<string, number[]>();
  forEachJsonlRowSync(refPath, (row, i) => {
    const id = String(row.id);
    refIds.push(id);
    refRegion[i] = row.region as number;
    const list = rowsOfId.get(id);
    if (list) list.push(i);
    else rowsOfId.set(id, [i]);
  });

  // The anchor's fields default to those the coverage run's reference was read with, when it is the same corpus.
  const scoring: AnchorScoring = { ...opts.scoring, model };
  if (scoring.textField === undefined && scoring.idField === undefined) {
    const src = textSource(cov.reference.source);
    if (!('missing' in src) && resolve(src.corpus) === resolve(opts.anchor)) {
      scoring.textField = src.textField;
      scoring.idField = src.idField;
    }
  }
  const out = opts.out === undefined ? undefined : resolve(opts.out);
  if (out) await mkdir(out, { recursive: true });
  const work = out ? join(out, 'anchor-scores') : mkdtempSync(join(tmpdir(), 'tailguard-tailbench-'));
  try {
    const a = await anchorScores(opts.anchor, work, scoring);
    const bpb = new Float64Array(refIds.length).fill(NaN);
    const nll = new Float64Array(refIds.length).fill(NaN);
    const docs: (Omit<TailbenchDocument, 'id' | 'reference_row' | 'region' | 'region_label' | 'tail'> | undefined)[] =
      [];
    const used = new Map<string, number>();
    let anchorRows = 0;
    let unmatched = 0;
    for await (const d of anchorDocs(a)) {
      anchorRows++;
      const seen = used.get(d.id) ?? 0;
      const r = rowsOfId.get(d.id)?.[seen];
      if (r === undefined || d.tokens <= 0 || d.bytes <= 0) {
        unmatched++;
        continue;
      }
      used.set(d.id, seen + 1);
      nll[r] = d.mean_nll;
      bpb[r] = (d.mean_nll * d.tokens) / (Math.LN2 * d.bytes);
      docs[r] = { line: d.line, tokens: d.tokens, bytes: d.bytes, mean_nll: d.mean_nll, bits_per_byte: bpb[r]! };
    }
    const matched = docs.filter(Boolean).length;
    if (matched === 0)
      throw new UsageError(
        `none of the ${anchorRows} scored anchor documents has the id of a reference document of ${covDir}: is \`anchor\` the corpus the coverage run's reference was scored from, read with the same id field?`,
      );
    const rows = Array.from(refIds.keys()).filter((r) => docs[r] !== undefined);
    const region = Int32Array.from(rows, (r) => refRegion[r]!);
    const statOpts = { z, resamples: opts.resamples, seed: opts.seed };
    const byBpb = benchStats(
      Float64Array.from(rows, (r) => bpb[r]!),
      region,
      k,
      tails,
      statOpts,
    );
    const byNll = benchStats(
      Float64Array.from(rows, (r) => nll[r]!),
      region,
      k,
      tails,
      statOpts,
    );

    const warnings: string[] = [];
    const unscored = refIds.length - matched;
    if (unscored)
      warnings.push(
        `${unscored} of ${refIds.length} reference documents have no score by this model (not in the anchor, or in its errors.jsonl): the means leave them out`,
      );
    if (unmatched)
      warnings.push(`${unmatched} scored anchor documents are not reference documents of the coverage run (by id)`);
    if (!tails.size) warnings.push(`${covDir} has no tail regions: there is no tail to benchmark`);

    const report: TailbenchReport = {
      tool: 'tailguard',
      command: 'tailbench',
      model: { ref: model, dir: a.run.model.dir, onnx: a.run.model.onnx },
      anchor: {
        path: resolve(opts.anchor),
        corpus: a.corpus,
        scores: out || !a.scored ? resolve(a.scoresDir) : null,
        scored_now: a.scored,
        scored_rows: anchorRows,
        errors: a.run.counts.errors,
      },
      coverage: { dir: covDir, reference: cov.reference.source, reference_documents: refIds.length, tails: cov.tails },
      documents: { matched, reference_unscored: unscored, anchor_unmatched: unmatched },
      unit: 'bits_per_byte',
      z,
      confidence: confidenceOfZ(z),
      resamples: opts.resamples ?? 1000,
      seed: opts.seed ?? 1,
      regions: cov.clusters.map((c, i) => ({
        region: i,
        label: c.label ?? null,
        status: c.status,
        tail: tails.has(i),
        bits_per_byte: byBpb.regions[i]!,
        mean_nll: byNll.regions[i]!,
      })),
      tail: byBpb.tail,
      head: byBpb.head,
      gap: byBpb.gap,
      nats_per_token: { tail: byNll.tail, head: byNll.head, gap: byNll.gap },
      ledger: null,
      alarm: { fired: false, reasons: [] },
      outputs: out
        ? {
            report: join(out, 'report.json'),
            documents: join(out, 'documents.jsonl'),
            documents_parquet: join(out, 'documents.parquet'),
            anchor_scores: work,
          }
        : null,
      warnings,
    };
    if (opts.ledger !== undefined && opts.generation !== undefined) {
      const ledger = await recordTailbench(opts.ledger, {
        generation: opts.generation,
        model: report.model,
        anchor: report.anchor.path,
        coverage: covDir,
        unit: 'bits_per_byte',
        tails: cov.tails,
        tail: byBpb.tail,
        head: byBpb.head,
        gap: byBpb.gap,
        recorded_at: new Date().toISOString(),
      });
      const trend = tailTrend(ledger, opts.generation, z);
      report.ledger = {
        path: resolve(opts.ledger),
        generation: opts.generation,
        generations: ledger.generations.map((g) => ({
          generation: g.generation,
          model: g.model.ref,
          tail: g.tail?.mean ?? null,
          head: g.head?.mean ?? null,
          gap: g.gap?.value ?? null,
        })),
        vs_previous: trend.vs_previous,
        vs_first: trend.vs_first,
      };
      report.alarm = { fired: trend.alarm, reasons: trend.reasons };
      warnings.push(...trend.notes);
    }
    if (out) {
      const w = await JsonlWriter.create(join(out, 'documents.jsonl'));
      for (let r = 0; r < refIds.length; r++) {
        const d = docs[r];
        const doc: TailbenchDocument = {
          id: refIds[r]!,
          reference_row: r,
          region: refRegion[r]!,
          region_label: cov.clusters[refRegion[r]!]?.label ?? null,
          tail: tails.has(refRegion[r]!),
          line: d?.line ?? null,
          tokens: d?.tokens ?? null,
          bytes: d?.bytes ?? null,
          mean_nll: d?.mean_nll ?? null,
          bits_per_byte: d?.bits_per_byte ?? null,
        };
        await w.write(doc);
      }
      await w.close();
      await jsonlToParquet(join(out, 'documents.jsonl'), join(out, 'documents.parquet'), {
        integerFields: ['reference_row', 'region', 'line', 'tokens', 'bytes'],
        columnTypes: DOCUMENT_COLUMNS,
      });
      await writeFileAtomic(join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    }
    return report;
  } finally {
    if (!out) rmSync(work, { recursive: true, force: true });
  }
}
