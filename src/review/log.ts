/**
 * The review log: one JSON line per human decision, appended and never rewritten, so it is the full record of what
 * was judged, by whom, when and why. `appendDecisions` checks the whole log first (a torn or hand-edited line is an
 * error naming LOG:LINE, and nothing is appended), then appends every new line in one write and fsyncs.
 * `latestLabels` gives each document's latest human/machine verdict (unsure entries are skipped): the latest by
 * `time`, ties broken by the later line — what `calibrate --reviewed` reads.
 */
import { existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { TailguardError } from '../errors.js';
import { jsonlRows, rowId } from './json-rows.js';

export const VERDICTS = ['human', 'machine', 'unsure'] as const;
export type ReviewVerdict = (typeof VERDICTS)[number];

export interface LogEntry {
  id: string;
  verdict: ReviewVerdict;
  reviewer: string | null;
  /** When the reviewer decided (ISO 8601): from the verdicts file, else the time of import. */
  time: string;
  /** The reviewer's reason (comment), if any. */
  reason: string | null;
  /** Why the queue routed the document to review. */
  queue_reasons: string[];
  /** The verdicts file and the line (or Label Studio task) the decision came from. */
  source: string;
  source_at: string;
  logged_at: string;
}

export function isVerdict(v: unknown): v is ReviewVerdict {
  return typeof v === 'string' && (VERDICTS as readonly string[]).includes(v);
}

/** Every entry of a log, checked, with its line (an absent log has none). */
export async function* logEntries(path: string): AsyncGenerator<LogEntry & { line: number }> {
  if (!existsSync(path)) return;
  for await (const r of jsonlRows(path, 'review log')) {
    const id = rowId(r, path);
    const { verdict, time } = r.row;
    if (!isVerdict(verdict))
      throw new TailguardError(
        `${path}:${r.line}: verdict ${JSON.stringify(verdict)} is not one of ${VERDICTS.join(', ')}`,
      );
    if (typeof time !== 'string' || Number.isNaN(Date.parse(time)))
      throw new TailguardError(`${path}:${r.line}: \`time\` is not an ISO 8601 time`);
    yield { ...(r.row as unknown as LogEntry), id, line: r.line };
  }
}

/** Appends entries to the log in one write; the log's existing lines are checked first and left as they are. */
export async function appendDecisions(path: string, entries: readonly LogEntry[]): Promise<void> {
  let endsClean = true;
  if (existsSync(path)) {
    for await (const _ of logEntries(path)) {
      // Reading every entry is the check.
    }
    const size = (await stat(path)).size;
    if (size > 0) {
      const fh = await open(path, 'r');
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, size - 1);
      await fh.close();
      endsClean = last[0] === 0x0a;
    }
  }
  if (entries.length === 0) return;
  const text = (endsClean ? '' : '\n') + entries.map((e) => `${JSON.stringify(e)}\n`).join('');
  const fh = await open(path, 'a');
  try {
    await fh.write(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface LatestLabel {
  label: 'human' | 'machine';
  time: string;
  reviewer: string | null;
  line: number;
}

/** Each document's latest human/machine verdict in the log (unsure entries are skipped), and how many entries it read. */
export async function latestLabels(
  path: string,
): Promise<{ labels: Map<string, LatestLabel>; entries: number; unsure: number }> {
  if (!existsSync(path)) throw new TailguardError(`${path}: no such review log`);
  const labels = new Map<string, LatestLabel>();
  let entries = 0;
  let unsure = 0;
  for await (const e of logEntries(path)) {
    entries++;
    if (e.verdict === 'unsure') {
      unsure++;
      continue;
    }
    const prev = labels.get(e.id);
    if (!prev || Date.parse(e.time) >= Date.parse(prev.time))
      labels.set(e.id, { label: e.verdict, time: e.time, reviewer: e.reviewer ?? null, line: e.line });
  }
  return { labels, entries, unsure };
}
