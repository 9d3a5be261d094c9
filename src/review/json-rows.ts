/**
 * The rows of a JSONL file that a command reads whole but never holds whole (detections, audit decisions, tail ids,
 * the review log): streamed line by line, each with its 1-based line number, so every complaint names FILE:LINE.
 * Blank lines are skipped; a line that is not a JSON object is an error, not a silently dropped row.
 */
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { TailguardError, UsageError } from '../errors.js';

export interface JsonRow {
  row: Record<string, unknown>;
  line: number;
}

export async function* jsonlRows(path: string, what = 'file'): AsyncGenerator<JsonRow> {
  if (!existsSync(path)) throw new UsageError(`${path}: no such ${what}`);
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (!text.trim()) continue;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch (err) {
      throw new TailguardError(`${path}:${line}: not JSON (${(err as Error).message})`);
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row))
      throw new TailguardError(`${path}:${line}: not a JSON object`);
    yield { row: row as Record<string, unknown>, line };
  }
}

/** A row's id as a string (ids may be numbers in JSON), or an error naming FILE:LINE. */
export function rowId(r: JsonRow, path: string, field = 'id'): string {
  const v = r.row[field];
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new TailguardError(`${path}:${r.line}: no \`${field}\` (a non-empty string or a number)`);
}
