/**
 * CSV for the review queue, through csv-stringify / csv-parse (RFC 4180: fields with commas, quotes or newlines are
 * quoted, quotes doubled), so a spreadsheet round trip keeps every text byte for byte. Records are streamed with the
 * line each starts on, for FILE:LINE errors (a quoted field may span lines).
 */
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { TailguardError } from '../errors.js';

/** A header line and one line per row, in `columns` order; missing or null cells are empty. */
export function toCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const cell = (v: unknown): string =>
    v === undefined || v === null ? '' : typeof v === 'string' ? v : Array.isArray(v) ? v.join(';') : String(v);
  return stringify([columns as string[], ...rows.map((r) => columns.map((c) => cell(r[c])))], {
    record_delimiter: 'unix',
  });
}

export interface CsvRecord {
  record: Record<string, string>;
  /** The line the record starts on (1-based; the header is line 1). */
  line: number;
}

/** The records of a CSV file with a header row, streamed. */
export async function* csvRecords(path: string): AsyncGenerator<CsvRecord> {
  const parser = createReadStream(path).pipe(parse({ columns: true, bom: true, info: true, skip_empty_lines: true }));
  try {
    for await (const item of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      const { record, info } = item;
      // info.lines is the line the record ends on; a record with k embedded newlines started k lines earlier.
      const newlines = Object.values(record).reduce((n, v) => n + (v.match(/\n/g)?.length ?? 0), 0);
      yield { record, line: info.lines - newlines };
    }
  } catch (err) {
    if (err instanceof TailguardError) throw err;
    const e = err as Error & { lines?: number };
    throw new TailguardError(`${path}${e.lines ? `:${e.lines}` : ''}: not valid CSV (${e.message})`);
  }
}
