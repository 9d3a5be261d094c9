/**
 * `auditCorpus`: the batch entropy gate. A corpus is cut into batches (every `batchSize` documents in input
 * order, or one batch per value of a grouping field); per batch, over the pooled words of its documents
 * (signals/text-signals.ts word tokens):
 *   entropy = -Σ p(w) log2 p(w), p(w) = count(w) / words  (bits)
 *   ttr     = distinct words / words
 * A batch whose entropy or TTR falls below its floor is HOLD_FOR_REVIEW, else PROCEED. Both statistics grow or
 * shrink with the amount of text pooled, so floors are only comparable between batches of similar size: a floor
 * calibrated from a human reference cuts the reference into batches of the same number of documents and takes the
 * p-th percentile of each statistic.
 *
 * Outputs in `out`:
 *   decisions.jsonl  one row per input row: line, id, batch, decision (accepted | held | rejected)
 *   gate.jsonl       every held batch and every rejected row, with the reason
 *   batches.jsonl    every batch: index, key, documents, words, entropy, ttr, decision, reasons
 *   audit.json       floors, counts (accepted + held + rejected = input rows), batch decisions
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { JsonlWriter } from '../io/jsonl-writer.js';
import { openCorpus } from '../io/open-corpus.js';
import { quantileSorted } from '../stats/index.js';
import { entropyBits, wordTokens } from '../signals/text-signals.js';

export type BatchDecision = 'PROCEED' | 'HOLD_FOR_REVIEW';

export interface Floors {
  entropy: number | null;
  ttr: number | null;
  /** Where the floors came from. */
  source: string;
}

export interface BatchStats {
  batch: number;
  key: string;
  documents: number;
  words: number;
  entropy: number;
  ttr: number;
}

export interface BatchResult extends BatchStats {
  decision: BatchDecision;
  reasons: string[];
}

export interface AuditOptions {
  input: string;
  out: string;
  textField?: string;
  idField?: string;
  /** Documents per batch (default 100); ignored with groupField. */
  batchSize?: number;
  groupField?: string;
  entropyFloor?: number;
  ttrFloor?: number;
  /** Human reference corpus: floors = its batches' p-th percentile (`percentile`, default 5). */
  reference?: string;
  percentile?: number;
}

export interface AuditSummary {
  tool: 'tailguard';
  command: 'audit';
  input: string;
  batching: { batch_size: number | null; group_field: string | null };
  floors: Floors;
  counts: { input_rows: number; accepted: number; held: number; rejected: number };
  batches: { total: number; proceed: number; hold_for_review: number };
}

function addText(acc: { words: Map<string, number>; total: number; documents: number }, text: string): void {
  const ws = wordTokens(text);
  for (const w of ws) acc.words.set(w, (acc.words.get(w) ?? 0) + 1);
  acc.total += ws.length;
  acc.documents++;
}

function statsOf(
  batch: number,
  key: string,
  acc: { words: Map<string, number>; total: number; documents: number },
): BatchStats {
  return {
    batch,
    key,
    documents: acc.documents,
    words: acc.total,
    entropy: entropyBits(acc.words, acc.total),
    ttr: acc.total ? acc.words.size / acc.total : 0,
  };
}

/** Per-batch statistics of a corpus in fixed-size batches (for calibrating floors from a reference). */
export async function batchStatistics(path: string, batchSize: number, textField?: string): Promise<BatchStats[]> {
  const out: BatchStats[] = [];
  let acc = { words: new Map<string, number>(), total: 0, documents: 0 };
  for await (const rec of openCorpus(path, { textField })) {
    if (rec.kind !== 'doc') continue;
    addText(acc, rec.text);
    if (acc.documents === batchSize) {
      out.push(statsOf(out.length, String(out.length), acc));
      acc = { words: new Map(), total: 0, documents: 0 };
    }
  }
  return out;
}

export async function calibrateFloors(
  reference: string,
  batchSize: number,
  percentile: number,
  textField?: string,
): Promise<Floors> {
  if (!(percentile > 0 && percentile < 100))
    throw new UsageError(`\`percentile\` must be in (0, 100) (got ${percentile})`);
  const stats = await batchStatistics(reference, batchSize, textField);
  if (stats.length < 5) {
    throw new UsageError(
      `the reference ${reference} gives ${stats.length} full batches of ${batchSize} documents; at least 5 are needed to calibrate floors (use a larger reference or a smaller \`batchSize\`)`,
    );
  }
  const sorted = (f: (s: BatchStats) => number) => stats.map(f).sort((a, b) => a - b);
  return {
    entropy: quantileSorted(
      sorted((s) => s.entropy),
      percentile / 100,
    ),
    ttr: quantileSorted(
      sorted((s) => s.ttr),
      percentile / 100,
    ),
    source: `p${percentile} of ${stats.length} batches of ${batchSize} documents of ${resolve(reference)}`,
  };
}

export function decide(s: BatchStats, floors: Floors): BatchResult {
  const reasons: string[] = [];
  if (s.documents > 0 && s.words === 0) reasons.push('no words in the batch');
  if (floors.entropy !== null && s.entropy < floors.entropy)
    reasons.push(`entropy ${s.entropy.toFixed(3)} bits < floor ${floors.entropy.toFixed(3)}`);
  if (floors.ttr !== null && s.ttr < floors.ttr)
    reasons.push(`TTR ${s.ttr.toFixed(4)} < floor ${floors.ttr.toFixed(4)}`);
  return { ...s, decision: reasons.length ? 'HOLD_FOR_REVIEW' : 'PROCEED', reasons };
}

export async function auditCorpus(opts: AuditOptions): Promise<AuditSummary> {
  const batchSize = opts.batchSize ?? 100;
  if (!opts.groupField && !(Number.isInteger(batchSize) && batchSize >= 1))
    throw new UsageError(`\`batchSize\` must be a positive integer (got ${batchSize})`);
  let floors: Floors;
  if (opts.reference) {
    if (opts.groupField)
      throw new UsageError(
        '`reference` calibrates floors for fixed-size batches; with `groupField` give `entropyFloor`/`ttrFloor`',
      );
    floors = await calibrateFloors(opts.reference, batchSize, opts.percentile ?? 5, opts.textField);
    if (opts.entropyFloor !== undefined) floors.entropy = opts.entropyFloor;
    if (opts.ttrFloor !== undefined) floors.ttr = opts.ttrFloor;
  } else if (opts.entropyFloor !== undefined || opts.ttrFloor !== undefined) {
    floors = { entropy: opts.entropyFloor ?? null, ttr: opts.ttrFloor ?? null, source: 'given' };
  } else {
    throw new UsageError(
      'give a floor: `entropyFloor` and/or `ttrFloor`, or a human `reference` corpus to calibrate them',
    );
  }

  const out = resolve(opts.out);
  await mkdir(out, { recursive: true });
  // Pass 1: batch statistics, and where each row went. Rows are kept as (line, id, batch) only.
  const rows: { line: number; id: string | null; batch: number; bad?: string; file: string }[] = [];
  const batchOf = new Map<string, number>();
  const accs: { key: string; words: Map<string, number>; total: number; documents: number }[] = [];
  const fields = opts.groupField ? [opts.groupField] : undefined;
  let docs = 0;
  for await (const rec of openCorpus(opts.input, {
    textField: opts.textField,
    idField: opts.idField,
    keepFields: fields,
  })) {
    if (rec.kind === 'bad') {
      rows.push({ line: rec.line, id: rec.id, batch: -1, bad: rec.reason, file: rec.file });
      continue;
    }
    const key = opts.groupField
      ? String(rec.fields?.[opts.groupField] ?? '(missing)')
      : String(Math.floor(docs / batchSize));
    docs++;
    let b = batchOf.get(key);
    if (b === undefined) {
      b = accs.length;
      batchOf.set(key, b);
      accs.push({ key, words: new Map(), total: 0, documents: 0 });
    }
    addText(accs[b]!, rec.text);
    rows.push({ line: rec.line, id: rec.id, batch: b, file: rec.file });
  }
  const results = accs.map((a, i) => decide(statsOf(i, a.key, a), floors));

  const decisions = await JsonlWriter.create(join(out, 'decisions.jsonl'));
  const gate = await JsonlWriter.create(join(out, 'gate.jsonl'));
  const batches = await JsonlWriter.create(join(out, 'batches.jsonl'));
  const counts = { input_rows: rows.length, accepted: 0, held: 0, rejected: 0 };
  for (const r of results) {
    await batches.write(r);
    if (r.decision === 'HOLD_FOR_REVIEW')
      await gate.write({
        kind: 'batch',
        batch: r.batch,
        key: r.key,
        documents: r.documents,
        decision: 'held',
        reasons: r.reasons,
      });
  }
  for (const r of rows) {
    if (r.bad !== undefined) {
      counts.rejected++;
      await decisions.write({ line: r.line, id: r.id, batch: null, decision: 'rejected' });
      await gate.write({
        kind: 'document',
        line: r.line,
        id: r.id,
        file: r.file,
        decision: 'rejected',
        reasons: [r.bad],
      });
      continue;
    }
    const held = results[r.batch]!.decision === 'HOLD_FOR_REVIEW';
    if (held) counts.held++;
    else counts.accepted++;
    await decisions.write({ line: r.line, id: r.id, batch: r.batch, decision: held ? 'held' : 'accepted' });
  }
  await Promise.all([decisions.close(), gate.close(), batches.close()]);
  const hold = results.filter((r) => r.decision === 'HOLD_FOR_REVIEW').length;
  const summary: AuditSummary = {
    tool: 'tailguard',
    command: 'audit',
    input: resolve(opts.input),
    batching: { batch_size: opts.groupField ? null : batchSize, group_field: opts.groupField ?? null },
    floors,
    counts,
    batches: { total: results.length, proceed: results.length - hold, hold_for_review: hold },
  };
  await writeFileAtomic(join(out, 'audit.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
