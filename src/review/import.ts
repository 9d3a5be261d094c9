/**
 * `importReviews`: reads reviewers' verdicts back and appends each decision to the review log (log.ts).
 * Verdicts come as the queue itself with its `verdict` column filled (queue.jsonl, or queue.csv from a spreadsheet),
 * or as a Label Studio JSON export (label-studio.ts). Columns read: id, verdict (human | machine | unsure, any case),
 * reviewer, comment (the reason), reviewed_at (ISO 8601; default: the time of import). A row with an empty verdict is
 * not reviewed yet and is skipped.
 * The whole file is checked before anything is written: a verdict outside the three, an id the queue does not hold or
 * an unreadable time is an error naming FILE:LINE (FILE: task N for Label Studio), and the log is left as it was.
 * A decision is logged again only if it changed: when the log's latest entry for the same document and reviewer has
 * the same verdict and reason, a re-import skips it (counted as unchanged), so importing a file twice logs it once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { TailguardError, UsageError } from '../errors.js';
import { csvRecords } from './csv.js';
import { jsonlRows, rowId } from './json-rows.js';
import { isLabelStudioExport, labelStudioDecisions } from './label-studio.js';
import { appendDecisions, isVerdict, logEntries, VERDICTS, type LogEntry, type ReviewVerdict } from './log.js';

export interface ReviewImportOptions {
  /** The filled-in queue (.jsonl, .csv) or a Label Studio JSON export (.json). */
  verdicts: string;
  /** The append-only review log (created if absent). */
  log: string;
  /** The queue.jsonl (or queue.csv) the verdicts answer (default: queue.jsonl beside `verdicts`). */
  queue?: string;
  /** The time of import (default now): the time of decisions the file gives none for, and `logged_at`. */
  now?: Date;
}

export interface ReviewImportSummary {
  tool: 'tailguard';
  command: 'review import';
  verdicts: string;
  format: 'jsonl' | 'csv' | 'label-studio';
  queue: string;
  log: string;
  /** Rows (annotations, for Label Studio) read. */
  read: number;
  logged: number;
  by_verdict: Record<ReviewVerdict, number>;
  /** Decisions the log already had (same document, reviewer, verdict and reason). */
  unchanged: number;
  /** Rows with no verdict yet. */
  unreviewed: number;
  /** Label Studio annotations marked cancelled. */
  cancelled: number;
}

interface Raw {
  id: string;
  verdict: unknown;
  reviewer: unknown;
  time: unknown;
  reason: unknown;
  at: string;
}

const text = (v: unknown): string | null => {
  if (v === undefined || v === null) return null;
  const s = String(v).trim();
  return s === '' ? null : s;
};

function formatOf(path: string): ReviewImportSummary['format'] {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.json') return 'label-studio';
  throw new UsageError(
    `${path}: verdicts are read from .jsonl (the queue), .csv (the queue from a spreadsheet) or .json (a Label Studio export)`,
  );
}

async function* rawRows(
  path: string,
  format: ReviewImportSummary['format'],
  cancelled: { n: number },
): AsyncGenerator<Raw> {
  if (format === 'jsonl') {
    for await (const r of jsonlRows(path, 'verdicts file')) {
      const o = r.row;
      yield {
        id: rowId(r, path),
        verdict: o.verdict,
        reviewer: o.reviewer,
        time: o.reviewed_at,
        reason: o.comment,
        at: `${r.line}`,
      };
    }
  } else if (format === 'csv') {
    for await (const { record: o, line } of csvRecords(path)) {
      if (!o.id) throw new TailguardError(`${path}:${line}: no \`id\``);
      yield {
        id: o.id,
        verdict: o.verdict,
        reviewer: o.reviewer,
        time: o.reviewed_at,
        reason: o.comment,
        at: `${line}`,
      };
    }
  } else {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new TailguardError(`${path}: not JSON (${(err as Error).message})`);
    }
    if (!isLabelStudioExport(json))
      throw new TailguardError(
        `${path}: not a Label Studio JSON export (an array of tasks with \`data\` and \`annotations\`)`,
      );
    const { decisions, skipped } = labelStudioDecisions(path, json);
    cancelled.n = skipped;
    for (const d of decisions) yield { ...d, at: ` ${d.at}` };
  }
}

/** The queue's ids and the reasons each was queued for. */
async function queueReasons(path: string): Promise<Map<string, string[]>> {
  const reasons = new Map<string, string[]>();
  if (extname(path).toLowerCase() === '.csv') {
    for await (const { record, line } of csvRecords(path)) {
      if (!record.id) throw new TailguardError(`${path}:${line}: no \`id\``);
      reasons.set(record.id, (record.reasons ?? '').split(';').filter(Boolean));
    }
  } else {
    for await (const r of jsonlRows(path, 'queue')) {
      const rs = r.row.reasons;
      reasons.set(rowId(r, path), Array.isArray(rs) ? rs.map(String) : []);
    }
  }
  return reasons;
}

export async function importReviews(opts: ReviewImportOptions): Promise<ReviewImportSummary> {
  const verdicts = resolve(opts.verdicts);
  if (!existsSync(verdicts)) throw new UsageError(`${opts.verdicts}: no such verdicts file`);
  const format = formatOf(verdicts);
  const queue = opts.queue ?? join(dirname(verdicts), 'queue.jsonl');
  if (!existsSync(queue))
    throw new UsageError(
      opts.queue
        ? `${queue}: no such queue (\`queue\`)`
        : `no queue.jsonl beside ${opts.verdicts}: pass \`queue\` (the queue.jsonl the verdicts answer)`,
    );
  const inQueue = await queueReasons(queue);
  const now = opts.now ?? new Date();
  // `at` is a line number, or (Label Studio) " task N (…), annotation M": either way FILE:AT names the place.
  const where = (at: string) => `${verdicts}:${at}`;

  // Check the whole file first.
  const cancelled = { n: 0 };
  const checked: (Omit<LogEntry, 'queue_reasons' | 'source' | 'logged_at'> & { at: string })[] = [];
  let read = 0;
  let unreviewed = 0;
  for await (const r of rawRows(verdicts, format, cancelled)) {
    read++;
    if (!inQueue.has(r.id))
      throw new TailguardError(`${where(r.at)}: id ${JSON.stringify(r.id)} is not in the queue ${queue}`);
    const v = text(r.verdict)?.toLowerCase() ?? null;
    if (v === null) {
      unreviewed++;
      continue;
    }
    if (!isVerdict(v))
      throw new TailguardError(
        `${where(r.at)}: verdict ${JSON.stringify(String(r.verdict))} is not one of ${VERDICTS.join(', ')}`,
      );
    const t = text(r.time);
    if (t !== null && Number.isNaN(Date.parse(t)))
      throw new TailguardError(`${where(r.at)}: reviewed_at ${JSON.stringify(t)} is not a time (ISO 8601)`);
    checked.push({
      id: r.id,
      verdict: v,
      reviewer: text(r.reviewer),
      time: t !== null ? new Date(t).toISOString() : now.toISOString(),
      reason: text(r.reason),
      source_at: r.at.startsWith(' ') ? r.at.trim() : `line ${r.at}`,
      at: r.at,
    });
  }

  // Logged already: the latest verdict and reason per (document, reviewer), for the documents of this file.
  const key = (id: string, reviewer: string | null) => JSON.stringify([id, reviewer]);
  const ids = new Set(checked.map((c) => c.id));
  const latest = new Map<string, { verdict: string; reason: string | null }>();
  for await (const e of logEntries(opts.log))
    if (ids.has(e.id)) latest.set(key(e.id, e.reviewer ?? null), { verdict: e.verdict, reason: e.reason ?? null });
  const entries: LogEntry[] = [];
  let unchanged = 0;
  for (const { at: _, ...c } of checked) {
    const k = key(c.id, c.reviewer);
    const prev = latest.get(k);
    if (prev && prev.verdict === c.verdict && prev.reason === c.reason) {
      unchanged++;
      continue;
    }
    latest.set(k, { verdict: c.verdict, reason: c.reason });
    entries.push({
      id: c.id,
      verdict: c.verdict,
      reviewer: c.reviewer,
      time: c.time,
      reason: c.reason,
      queue_reasons: inQueue.get(c.id)!,
      source: verdicts,
      source_at: c.source_at,
      logged_at: now.toISOString(),
    });
  }
  await appendDecisions(opts.log, entries);
  const by = Object.fromEntries(VERDICTS.map((v) => [v, entries.filter((e) => e.verdict === v).length])) as Record<
    ReviewVerdict,
    number
  >;
  return {
    tool: 'tailguard',
    command: 'review import',
    verdicts,
    format,
    queue: resolve(queue),
    log: resolve(opts.log),
    read,
    logged: entries.length,
    by_verdict: by,
    unchanged,
    unreviewed,
    cancelled: cancelled.n,
  };
}
