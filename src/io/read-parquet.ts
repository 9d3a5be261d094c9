/**
 * Parquet corpus reader (hyparquet), one row group at a time.
 *
 * Memory: only the text (and id) columns are read, and only one row group of
 * them is decoded at once, through an AsyncBuffer that reads byte ranges from
 * a file handle. Peak memory is therefore about one row group of those columns,
 * compressed plus decoded; it does not grow with the file. (A file written
 * with one giant row group is read as one batch: hyparquet cannot decode part
 * of a column chunk without an offset index.)
 */
import { promises as fsp } from 'node:fs';
import {
  parquetMetadataAsync,
  parquetReadObjects,
  parquetSchema,
  type AsyncBuffer,
  type FileMetaData,
} from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { CorpusOpenError } from '../errors.js';
import { checkSlice, evenSplit, type CorpusSlice } from './corpus-slice.js';
import { checkText, DEFAULT_TEXT_FIELD, idForBadRow, resolveId } from './fields.js';
import { DEFAULT_MAX_LINE_BYTES } from './line-splitter.js';
import { assertReadableFile } from './fs-checks.js';
import type { ReadTally } from './read-jsonl.js';
import { pickFields, type CorpusOptions, type InputRecord } from './records.js';
import { decodeUtf8Strict } from './utf8.js';

export interface ParquetReadOptions extends CorpusOptions {
  /** String values longer than this (in bytes) make the row bad (default 64 MiB). */
  maxDocBytes?: number;
  /** Resume support: start at this 0-based row; earlier row groups are not read at all. */
  startIndex?: number;
  /** Only this slice of the rows (corpus-slice.ts), numbered as in the whole file; `startIndex` then counts from the slice's first row. */
  slice?: CorpusSlice;
  /** Added to every row number (and so to row-number ids): the rows before this file in a many-file corpus. */
  lineOffset?: number;
}

/** A file handle seen as hyparquet's AsyncBuffer: each slice is one positioned read. */
export async function openFileAsyncBuffer(path: string): Promise<{ buffer: AsyncBuffer; close(): Promise<void> }> {
  const handle = await fsp.open(path, 'r');
  try {
    const { size } = await handle.stat();
    const buffer: AsyncBuffer = {
      byteLength: size,
      async slice(start: number, end: number = size): Promise<ArrayBuffer> {
        const len = Math.max(0, Math.min(end, size) - start);
        const out = new Uint8Array(len);
        let off = 0;
        while (off < len) {
          const { bytesRead } = await handle.read(out, off, len - off, start + off);
          if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${start + off}`);
          off += bytesRead;
        }
        return out.buffer;
      },
    };
    return { buffer, close: () => handle.close() };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/**
 * Marks a string cell we refuse to decode (invalid UTF-8, or too large). hyparquet
 * would otherwise decode leniently, turning bad bytes into U+FFFD.
 */
class BadCell {
  constructor(readonly reason: string) {}
}

/** Rows read or skipped, and the last row number reached (readers of many files add it up: corpus-files.ts). */
export async function* readParquet(
  path: string,
  opts: ParquetReadOptions = {},
): AsyncGenerator<InputRecord, ReadTally> {
  const textField = opts.textField ?? DEFAULT_TEXT_FIELD;
  const idField = opts.idField;
  const maxDocBytes = opts.maxDocBytes ?? DEFAULT_MAX_LINE_BYTES;
  if (opts.slice) checkSlice(opts.slice);

  await assertReadableFile(path);
  let file: Awaited<ReturnType<typeof openFileAsyncBuffer>>;
  try {
    file = await openFileAsyncBuffer(path);
  } catch (err) {
    throw new CorpusOpenError(path, `cannot open: ${(err as Error).message}`, { cause: err });
  }
  try {
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(file.buffer);
    } catch (err) {
      throw new CorpusOpenError(path, `not a readable Parquet file: ${(err as Error).message}`, { cause: err });
    }
    const topLevel = parquetSchema(metadata).children;
    const names = topLevel.map((c) => c.element.name);
    const textCol = topLevel.find((c) => c.element.name === textField);
    if (!textCol) {
      throw new CorpusOpenError(
        path,
        `no column "${textField}" (columns: ${names.join(', ') || 'none'}); set the text field`,
      );
    }
    // A non-string text column would make every row bad; say so once instead.
    if (textCol.children.length > 0 || textCol.element.type !== 'BYTE_ARRAY') {
      const t = textCol.children.length > 0 ? 'a nested group' : textCol.element.type;
      throw new CorpusOpenError(path, `column "${textField}" is ${t}, expected a string (BYTE_ARRAY) column`);
    }
    // An id field the schema lacks behaves like a missing id on every row: line numbers.
    const hasId = idField !== undefined && names.includes(idField);
    // Kept fields may name the text or id column too (as for JSONL): they are read once and copied into `fields`.
    const kept = (opts.keepFields ?? []).filter((f) => names.includes(f));
    const columns = [...new Set([textField, ...(hasId ? [idField!] : []), ...kept])];

    const stringFromBytes = (bytes: Uint8Array | undefined): string | BadCell | undefined => {
      if (bytes === undefined || bytes === null) return bytes;
      if (bytes.length > maxDocBytes)
        return new BadCell(`is ${bytes.length} bytes, exceeds the limit of ${maxDocBytes} bytes`);
      const d = decodeUtf8Strict(bytes);
      return d.ok ? d.text : new BadCell(`has invalid UTF-8 at byte offset ${d.offset}`);
    };

    const total = metadata.row_groups.reduce((a, g) => a + Number(g.num_rows), 0);
    const range = opts.slice ? evenSplit(total, opts.slice) : { from: 0, to: total };
    const startIndex = range.from + (opts.startIndex ?? 0);
    let groupStart = 0;
    let index = startIndex;
    for (const group of metadata.row_groups) {
      const groupRows = Number(group.num_rows);
      const groupEnd = groupStart + groupRows;
      if (groupStart >= range.to) break;
      if (groupEnd <= startIndex || groupRows === 0) {
        groupStart = groupEnd;
        continue;
      }
      const rowStart = Math.max(groupStart, startIndex);
      if (rowStart >= range.to) break;
      let rows: Record<string, unknown>[];
      try {
        rows = await parquetReadObjects({
          file: file.buffer,
          metadata,
          columns,
          rowStart,
          rowEnd: Math.min(groupEnd, range.to),
          compressors,
          parsers: { stringFromBytes },
        });
      } catch (err) {
        throw new CorpusOpenError(path, `cannot read rows ${rowStart + 1}-${groupEnd}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        const line = (opts.lineOffset ?? 0) + rowStart + i + 1;
        const idValue = hasId ? row[idField!] : undefined;
        const idBad = idValue instanceof BadCell ? `id field "${idField}" ${idValue.reason}` : undefined;
        const textValue = row[textField];
        const text: ReturnType<typeof checkText> =
          textValue instanceof BadCell
            ? { ok: false, reason: `field "${textField}" ${textValue.reason}` }
            : checkText(textValue, true, textField);
        const id = idBad ? { ok: false as const, reason: idBad } : resolveId(idValue, hasId, line, idField);
        if (!text.ok || !id.ok) {
          const badId = idBad ? null : idForBadRow(idValue, hasId, line, idField);
          const reason = !text.ok ? text.reason : (id as { reason: string }).reason;
          yield { kind: 'bad', index: index++, line, id: badId, file: path, reason };
        } else {
          const fields = pickFields(row, kept.length > 0 ? kept : undefined);
          yield {
            kind: 'doc',
            index: index++,
            line,
            id: id.value,
            text: text.value,
            file: path,
            ...(fields ? { fields } : {}),
          };
        }
      }
      groupStart = groupEnd;
    }
    const read = Math.max(0, range.to - range.from);
    return { records: read, lines: read };
  } finally {
    await file.close();
  }
}
