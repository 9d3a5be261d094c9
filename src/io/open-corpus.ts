/** One entry point for every corpus kind: picks the reader from the path. */
import { CorpusOpenError, UsageError } from '../errors.js';
import { compressionFromPath, type Compression } from './byte-source.js';
import { listCorpusFiles } from './corpus-files.js';
import type { CorpusSlice } from './corpus-slice.js';
import { statCorpusPath } from './fs-checks.js';
import { readJsonl } from './read-jsonl.js';
import { readFiles } from './read-files.js';
import { readParquet } from './read-parquet.js';
import { readTextDir } from './read-textdir.js';
import type { CorpusOptions, InputRecord } from './records.js';

export interface OpenCorpusOptions extends CorpusOptions {
  /** Per-document byte cap: JSONL line length, Parquet cell size, text file size (default 64 MiB). */
  maxDocBytes?: number;
  /**
   * Resume support: records before this 0-based index are not produced, and the
   * readers avoid work for them (JSONL: not decoded/parsed; Parquet: earlier row
   * groups not read; directory: earlier files not opened).
   */
  startIndex?: number;
  /**
   * Only the `index`-th of `count` contiguous slices (the rule is in corpus-slice.ts: JSONL by bytes on line starts,
   * compressed JSONL by lines, Parquet by row groups, a directory or many files by files). Rows keep their whole-corpus line
   * numbers; `startIndex` counts from the slice's first row. Not for stdin.
   */
  slice?: CorpusSlice;
}

export type CorpusFormat =
  | { kind: 'jsonl'; compression: Compression; stdin: boolean }
  | { kind: 'parquet' }
  | { kind: 'textdir' }
  /** Many JSONL/Parquet files read as one corpus, in this order (corpus-files.ts). */
  | { kind: 'files'; files: string[] };

export const SUPPORTED_CORPUS_FORMATS =
  'a directory of .txt files, .jsonl/.ndjson/.json (optionally .gz or .zst), .parquet, or "-" for JSONL on stdin; ' +
  "many such files as a directory, a quoted glob ('data/*.parquet') or @list.txt (one path per line)";

const JSONL_EXTS = ['.jsonl', '.ndjson', '.json'];

/**
 * What kind of corpus `path` is. Throws CorpusOpenError for a missing path or
 * an unsupported extension. Exposed so a CLI can fail before starting a model.
 */
export async function detectCorpusFormat(path: string): Promise<CorpusFormat> {
  if (path === '-') return { kind: 'jsonl', compression: 'none', stdin: true };
  const files = await listCorpusFiles(path);
  if (files) return { kind: 'files', files };
  const st = await statCorpusPath(path);
  if (st.isDirectory()) return { kind: 'textdir' };
  if (!st.isFile()) throw new CorpusOpenError(path, 'not a regular file or directory');
  const compression = compressionFromPath(path);
  const lower = path.toLowerCase();
  const inner = compression === 'none' ? lower : lower.slice(0, lower.lastIndexOf('.'));
  if (JSONL_EXTS.some((e) => inner.endsWith(e))) return { kind: 'jsonl', compression, stdin: false };
  if (compression === 'none' && inner.endsWith('.parquet')) return { kind: 'parquet' };
  throw new CorpusOpenError(path, `unsupported corpus format; supported: ${SUPPORTED_CORPUS_FORMATS}`);
}

/**
 * Records of the corpus at `path`, in input order. Errors that make the whole
 * corpus unusable surface as CorpusOpenError from the first next() call.
 */
export async function* openCorpus(path: string, opts: OpenCorpusOptions = {}): AsyncGenerator<InputRecord> {
  const format = await detectCorpusFormat(path);
  const { maxDocBytes, startIndex, textField, idField, keepFields, slice } = opts;
  switch (format.kind) {
    case 'jsonl':
      if (format.stdin && slice)
        throw new UsageError('`shard` needs a file or a directory to read: stdin cannot be split into slices');
      // stdin ('-') sniffs gzip/zstd magic bytes, since it has no name to go by.
      yield* readJsonl(path, {
        textField,
        idField,
        keepFields,
        startIndex,
        slice,
        maxLineBytes: maxDocBytes,
        compression: format.stdin ? 'auto' : format.compression,
      });
      return;
    case 'parquet':
      yield* readParquet(path, { textField, idField, keepFields, startIndex, slice, maxDocBytes });
      return;
    case 'textdir':
      // A directory has no fields: the id is the relative path, the text the whole file.
      yield* readTextDir(path, { startIndex, slice, maxDocBytes });
      return;
    case 'files':
      yield* readFiles(format.files, { textField, idField, keepFields, startIndex, slice, maxDocBytes });
      return;
  }
}

/**
 * Generic resume helper for any record stream: drop the first `k` items.
 * Prefer OpenCorpusOptions.startIndex, which skips without parsing.
 */
export async function* skipRecords<T>(records: AsyncIterable<T>, k: number): AsyncGenerator<T> {
  let seen = 0;
  for await (const r of records) {
    if (seen++ < k) continue;
    yield r;
  }
}
