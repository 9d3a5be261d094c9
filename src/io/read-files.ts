/**
 * Many JSONL/Parquet files read as one corpus (the list from corpus-files.ts), as if concatenated: each file by its
 * own reader, records numbered on across files (`line` continues from the previous file's last line; line-number
 * ids with it), each tagged with its file's position (`part`) and its line within the file (`fileLine`).
 * A slice takes whole files (fileSplit); its first line number needs the line counts of the files before it
 * (Parquet: metadata; JSONL: a newline count, or a decompression for .gz/.zst). `startIndex` (resume) skips whole
 * files by their record counts, and earlier records of a file unparsed.
 */
import { promises as fsp } from 'node:fs';
import { CorpusOpenError } from '../errors.js';
import { checkSlice, type CorpusSlice } from './corpus-slice.js';
import { countFileLines, dataFileKind, fileSplit } from './corpus-files.js';
import { describeFsError } from './fs-checks.js';
import { readJsonl, type ReadTally } from './read-jsonl.js';
import { readParquet } from './read-parquet.js';
import type { CorpusOptions, InputRecord } from './records.js';

export interface FilesReadOptions extends CorpusOptions {
  maxDocBytes?: number;
  /** Resume support: records before this 0-based position (counted from the slice's first record) are not produced. */
  startIndex?: number;
  /** Only the files of this slice (corpus-files.ts fileSplit), numbered as in the whole list. */
  slice?: CorpusSlice;
}

/** Bytes of each file, for the split. */
export async function fileSizes(files: readonly string[]): Promise<number[]> {
  return Promise.all(
    files.map(async (f) => {
      try {
        return (await fsp.stat(f)).size;
      } catch (err) {
        throw new CorpusOpenError(f, describeFsError(err), { cause: err });
      }
    }),
  );
}

export async function* readFiles(files: readonly string[], opts: FilesReadOptions = {}): AsyncGenerator<InputRecord> {
  let range = { from: 0, to: files.length };
  if (opts.slice) {
    checkSlice(opts.slice);
    range = fileSplit(await fileSizes(files), opts.slice);
  }
  let lineOffset = 0;
  for (let i = 0; i < range.from; i++) lineOffset += await countFileLines(files[i]!);
  let skip = opts.startIndex ?? 0;
  let index = 0;
  const { textField, idField, keepFields, maxDocBytes } = opts;
  for (let part = range.from; part < range.to; part++) {
    const file = files[part]!;
    const common = { textField, idField, keepFields, startIndex: skip, lineOffset };
    const reader =
      dataFileKind(file) === 'parquet'
        ? readParquet(file, { ...common, maxDocBytes })
        : readJsonl(file, { ...common, maxLineBytes: maxDocBytes });
    let tally: ReadTally;
    try {
      for (;;) {
        const r = await reader.next();
        if (r.done) {
          tally = r.value;
          break;
        }
        const rec = r.value;
        yield { ...rec, index: index + rec.index, part, fileLine: rec.line - lineOffset };
      }
    } finally {
      // Closes the file when the consumer stops early (a no-op after the reader finished).
      await reader.return({ records: 0, lines: 0 });
    }
    skip = Math.max(0, skip - tally.records);
    index += tally.records;
    lineOffset += tally.lines;
  }
}
