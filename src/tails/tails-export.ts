/**
 * `tailsExport`: the anchor's documents from the regions a candidate lacks or holds too thinly (a `coverage` run's
 * tails), ready to add to the next training mix: per document its id, text, region, region label and the weight
 * that restores the anchor's proportions (tail-plan.ts), in reference row order; optionally at most `budget` of them.
 *
 * Reads a coverage output directory: report.json (regions, shares, tails, where the reference came from) and
 * reference.jsonl (each reference document's region), two streaming passes; then the reference's texts, streamed from
 * its corpus (coverage/row-texts.ts). Writes `out` (.jsonl, atomically) and with `format: 'parquet'` the same rows as
 * .parquet beside it. A selected document whose text is not found is still written, after the others, with
 * `text: null`, and counted (`texts_missing`): nothing is dropped without a word.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { forEachJsonlRowSync } from '../io/jsonl-rows-sync.js';
import { JsonlWriter } from '../io/jsonl-writer.js';
import { jsonlToParquet } from '../io/parquet-from-jsonl.js';
import type { CoverageReport } from '../coverage/report.js';
import { rowTexts, type RowText } from '../coverage/row-texts.js';
import { picked, tailPlan, type TailPlanRegion } from './tail-plan.js';

export interface TailsExportOptions {
  /** A `tailguard coverage` output directory. */
  coverage: string;
  /** The .jsonl file to write. */
  out: string;
  /** At most this many documents, shared among the tail regions in proportion to their mass. */
  budget?: number;
  /** `parquet`: also write the rows as .parquet beside `out` (same name, .parquet). Default `jsonl`. */
  format?: 'jsonl' | 'parquet';
}

/** One row of the export. */
export interface TailRow {
  id: string;
  text: string | null;
  region: number;
  region_label: string | null;
  weight: number;
  /** The document's row in the reference (and in the coverage run's reference.jsonl). */
  reference_row: number;
}

export interface TailsExportSummary {
  tool: 'tailguard';
  command: 'tails export';
  coverage: string;
  out: string;
  parquet?: string;
  reference: string;
  candidate_documents: number;
  budget?: number;
  /** Documents written. */
  exported: number;
  /** Of them, how many have no text (not found in the reference's corpus, or under another id there). */
  texts_missing: number;
  /** Per tail region: shares, mass, documents exported and their weight, label. */
  regions: (TailPlanRegion & { label: string | null; status: string })[];
  /** Σ mass: candidate-document units the export adds. */
  total_mass: number;
}

export const TAIL_COLUMNS = {
  id: 'STRING',
  text: 'STRING',
  region: 'INT64',
  region_label: 'STRING',
  weight: 'DOUBLE',
  reference_row: 'INT64',
} as const;

export async function tailsExport(opts: TailsExportOptions): Promise<TailsExportSummary> {
  const format = opts.format ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'parquet')
    throw new UsageError(`\`format\` must be jsonl or parquet (got ${String(format)})`);
  if (!opts.out.endsWith('.jsonl')) throw new UsageError(`\`out\` must be a .jsonl file (got ${opts.out})`);
  const dir = resolve(opts.coverage);
  const report = readCoverageReport(dir);
  const refRows = join(dir, 'reference.jsonl');
  const counts = regionCounts(refRows, report);
  const plan = tailPlan(
    report.tails.map((c) => ({
      region: c,
      reference_share: report.clusters[c]!.reference_share,
      candidate_share: report.clusters[c]!.candidate_share,
      reference_documents: counts[c]!,
    })),
    report.candidate.documents,
    opts.budget,
  );
  const byRegion = new Map(plan.regions.map((r) => [r.region, r]));

  // Second pass: which rows go out (evenly spaced within each region), and their ids.
  const chosen = new Map<number, { id: string; region: number }>();
  const seen = new Float64Array(report.clusters.length);
  forEachJsonlRowSync(refRows, (row, i) => {
    const c = row.region as number;
    const r = byRegion.get(c);
    if (r && picked(seen[c]!++, counts[c]!, r.exported)) chosen.set(i, { id: String(row.id), region: c });
  });

  // No tail, nothing to read: the corpus is not needed for an empty export.
  const texts = chosen.size ? rowTexts(report.reference.source) : { rows: noRows() };
  if ('missing' in texts) throw new UsageError(`cannot export the tails' texts: ${texts.missing}`);
  mkdirSync(dirname(resolve(opts.out)), { recursive: true });
  const writer = await JsonlWriter.create(resolve(opts.out));
  const row = (i: number, text: string | null): TailRow => {
    const { id, region: c } = chosen.get(i)!;
    return {
      id,
      text,
      region: c,
      region_label: report.clusters[c]!.label ?? null,
      weight: byRegion.get(c)!.weight,
      reference_row: i,
    };
  };
  const written = new Set<number>();
  try {
    for await (const { row: i, id, text } of texts.rows) {
      if (chosen.get(i)?.id !== id || written.has(i)) continue;
      await writer.write(row(i, text));
      written.add(i);
      if (written.size === chosen.size) break;
    }
    for (const i of chosen.keys()) if (!written.has(i)) await writer.write(row(i, null));
  } catch (err) {
    await writer.abandon();
    throw new UsageError(`cannot export the tails' texts: ${(err as Error).message}`);
  }
  await writer.close();
  let parquet: string | undefined;
  if (format === 'parquet') {
    parquet = resolve(opts.out.replace(/\.jsonl$/, '.parquet'));
    await jsonlToParquet(resolve(opts.out), parquet, {
      integerFields: ['region', 'reference_row'],
      columnTypes: TAIL_COLUMNS,
    });
  }
  return {
    tool: 'tailguard',
    command: 'tails export',
    coverage: dir,
    out: resolve(opts.out),
    ...(parquet ? { parquet } : {}),
    reference: report.reference.source,
    candidate_documents: report.candidate.documents,
    ...(opts.budget !== undefined ? { budget: opts.budget } : {}),
    exported: chosen.size,
    texts_missing: chosen.size - written.size,
    regions: plan.regions.map((r) => ({
      ...r,
      label: report.clusters[r.region]!.label ?? null,
      status: report.clusters[r.region]!.status,
    })),
    total_mass: plan.total_mass,
  };
}

/** report.json of a coverage directory, checked for what the export reads. */
export function readCoverageReport(dir: string): CoverageReport {
  if (!existsSync(dir)) throw new UsageError(`${dir}: no such coverage directory`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a directory (expected a coverage output)`);
  const path = join(dir, 'report.json');
  if (!existsSync(path)) throw new UsageError(`${dir} is not a coverage output directory: no report.json`);
  if (!existsSync(join(dir, 'reference.jsonl')))
    throw new UsageError(`${dir} is not a coverage output directory: no reference.jsonl`);
  let r: Partial<CoverageReport>;
  try {
    r = JSON.parse(readFileSync(path, 'utf8')) as Partial<CoverageReport>;
  } catch (err) {
    throw new UsageError(`${path} is not JSON (${(err as Error).message})`);
  }
  if (r.command !== 'coverage')
    throw new UsageError(`${path} is not a coverage report (command: ${String(r.command)})`);
  if (!Array.isArray(r.clusters) || !Array.isArray(r.tails) || !r.reference?.source || !r.candidate)
    throw new UsageError(`${path} lacks its regions (clusters, tails) or its reference and candidate`);
  const bad = r.tails.find((t) => !(Number.isInteger(t) && r.clusters![t] !== undefined));
  if (bad !== undefined) throw new UsageError(`${path}: tail ${String(bad)} is not one of its regions`);
  return r as CoverageReport;
}

/** Reference documents per region, from reference.jsonl, checked against report.json. */
export function regionCounts(path: string, report: CoverageReport): Float64Array {
  const k = report.clusters.length;
  const counts = new Float64Array(k);
  let rows = 0;
  forEachJsonlRowSync(path, (row, i) => {
    const c = row.region;
    if (c === undefined)
      throw new UsageError(
        `${path} row ${i + 1} has no region: it was written by an older tailguard coverage; run coverage again`,
      );
    if (!(typeof c === 'number' && Number.isInteger(c) && c >= 0 && c < k))
      throw new UsageError(`${path} row ${i + 1}: region ${JSON.stringify(c)} is not one of report.json's ${k}`);
    counts[c]!++;
    rows++;
  });
  if (rows !== report.reference.documents)
    throw new UsageError(
      `${path} has ${rows} rows, report.json counts ${report.reference.documents} reference documents`,
    );
  const off = report.clusters.find((c) => counts[c.cluster] !== c.reference_documents);
  if (off)
    throw new UsageError(
      `${path} puts ${counts[off.cluster]} documents in region ${off.cluster}, report.json ${off.reference_documents}: the files are from different runs`,
    );
  return counts;
}

async function* noRows(): AsyncGenerator<RowText> {}
