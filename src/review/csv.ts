/**
 * CSV for the review queue, through csv-stringify / csv-parse (RFC 4180: fields with commas, quotes or newlines are
 * quoted, quotes doubled), so a spreadsheet round trip keeps every text byte for byte. Records come with the line
 * each starts on, for FILE:LINE errors (a quoted field may span lines).
 */
import { readFile } from 'node:fs/promises';
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
  /** The physical line the record starts on (1-based, counting '\n'; the header is line 1). */
  line: number;
}

/**
 * The records of a CSV file with a header row. The file is read whole (a verdicts file is the size of a review
 * queue); line numbers are counted here from the parser's byte offsets, since the parser's own line count takes an
 * embedded \r\n for two lines.
 */
export async function* csvRecords(path: string): AsyncGenerator<CsvRecord> {
  const buf = await readFile(path);
  const parser = parse(buf, { columns: true, bom: true, info: true, skip_empty_lines: true });
  let counted = 0;
  let newlines = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: Record<string, string>; info: { bytes: number } }>) {
      const { record, info } = item;
      // info.bytes is where the parser stands after the record: past its first byte of line break (the \n of a
      // \n, the \r of a \r\n). Without that \n, the newlines before it number the record's last line, less 1.
      const end = Math.min(info.bytes, buf.length);
      for (let i = counted; i < end; i++) if (buf[i] === 0x0a) newlines++;
      counted = Math.max(counted, end);
      const last = 1 + newlines - (end > 0 && buf[end - 1] === 0x0a ? 1 : 0);
      // It started as many lines earlier as its fields hold newlines.
      const inside = Object.values(record).reduce((n, v) => n + (v.match(/\n/g)?.length ?? 0), 0);
      yield { record, line: last - inside };
    }
  } catch (err) {
    if (err instanceof TailguardError) throw err;
    const e = err as Error & { lines?: number };
    throw new TailguardError(`${path}${e.lines ? `:${e.lines}` : ''}: not valid CSV (${e.message})`);
  }
}
