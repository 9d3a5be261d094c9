/**
 * Inputs of many JSONL/Parquet files, read as one corpus (docs/scoring.md#inputs, docs/scale-out.md):
 *   a directory    every .jsonl/.ndjson (optionally .gz/.zst) and .parquet file below it, sorted by relative path
 *                  (plain `.json` is left out: in dataset folders it is metadata). A directory of .txt files stays a
 *                  text directory (one document per file); one holding both kinds is refused.
 *   a glob         `'data/part-*.parquet'` (quoted, so the shell leaves it alone; glob.ts), sorted by path
 *   `@list.txt`    one path per line, in the list's order; relative paths are relative to the list file; blank
 *                  lines and lines starting with '#' are skipped
 * The files are one stream, as if concatenated in that order: `line` counts physical lines (JSONL) or rows
 * (Parquet) across files, so line numbers, and the line-number ids of rows without an id field, stay unique.
 * Shards take whole files (`fileSplit`): contiguous runs of files balanced by bytes.
 */
import { promises as fsp, existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parquetMetadataAsync } from 'hyparquet';
import { CorpusOpenError } from '../errors.js';
import { compressionFromPath, decompress, fileBytes } from './byte-source.js';
import { checkSlice, countLines, countNewlines, type CorpusSlice } from './corpus-slice.js';
import { describeFsError } from './fs-checks.js';
import { expandGlob, hasGlobChars } from './glob.js';
import { openFileAsyncBuffer } from './read-parquet.js';

export type DataFileKind = 'jsonl' | 'parquet';

/** What a file name says it holds; `inDirectory` leaves out plain `.json` (metadata beside the data). */
export function dataFileKind(path: string, inDirectory = false): DataFileKind | null {
  const lower = path.toLowerCase();
  const inner = compressionFromPath(lower) === 'none' ? lower : lower.slice(0, lower.lastIndexOf('.'));
  if (inner.endsWith('.jsonl') || inner.endsWith('.ndjson') || (!inDirectory && inner.endsWith('.json')))
    return 'jsonl';
  if (inner === lower && lower.endsWith('.parquet')) return 'parquet';
  return null;
}

/** An input that names a list file: `@path`, unless a file of that very name exists. */
const listPath = (input: string): string | undefined =>
  input.startsWith('@') && input.length > 1 && !existsSync(input) ? input.slice(1) : undefined;

const isGlob = (input: string): boolean => hasGlobChars(input) && !existsSync(input);

/**
 * The files of a many-file input, in reading order; null when `input` is one file, a text directory or stdin.
 * Throws CorpusOpenError for a glob matching nothing, a bad list, or a directory mixing .txt and data files.
 */
export async function listCorpusFiles(input: string): Promise<string[] | null> {
  if (input === '-') return null;
  const list = listPath(input);
  if (list !== undefined) return readList(list);
  if (isGlob(input)) {
    const files = await expandGlob(input);
    if (files.length === 0) throw new CorpusOpenError(input, 'the pattern matches no file');
    const other = files.find((f) => dataFileKind(f) === null);
    if (other)
      throw new CorpusOpenError(other, 'matched by the pattern, but not a .jsonl/.ndjson/.json or .parquet file');
    return files;
  }
  let st;
  try {
    st = await fsp.stat(input);
  } catch {
    return null; // openCorpus reports a missing path
  }
  if (!st.isDirectory()) return null;
  const data: string[] = [];
  let txt = 0;
  try {
    await walk(input, '', (rel) => {
      if (rel.toLowerCase().endsWith('.txt')) txt++;
      else if (dataFileKind(rel, true)) data.push(rel);
    });
  } catch (err) {
    throw new CorpusOpenError(input, `cannot list: ${describeFsError(err)}`, { cause: err });
  }
  if (data.length === 0) return null;
  // A score directory (score-dir.ts, shards/layout.ts: run.json or shards.json beside its outputs) is not a corpus.
  if (
    data.includes('scores.jsonl') &&
    (existsSync(join(input, 'run.json')) || existsSync(join(input, 'checkpoint.json')))
  )
    throw new CorpusOpenError(input, 'is a tailguard score directory (scores.jsonl, run.json), not a corpus');
  if (existsSync(join(input, 'shards.json')))
    throw new CorpusOpenError(input, 'is a sharded tailguard score directory (shards.json), not a corpus');
  if (txt > 0)
    throw new CorpusOpenError(
      input,
      `holds both .txt files (${txt}) and JSONL/Parquet files (${data.length}): a directory is either text files, one document each, or data files; pass a glob or an @list to choose`,
    );
  return data.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((rel) => join(input, ...rel.split('/')));
}

async function walk(root: string, rel: string, found: (rel: string) => void): Promise<void> {
  const entries = await fsp.readdir(rel === '' ? root : join(root, rel), { withFileTypes: true });
  for (const e of entries) {
    const child = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) await walk(root, child, found);
    else if (e.isFile() || (e.isSymbolicLink() && statSync(join(root, child), { throwIfNoEntry: false })?.isFile()))
      found(child);
  }
}

async function readList(list: string): Promise<string[]> {
  let text: string;
  try {
    text = await fsp.readFile(list, 'utf8');
  } catch (err) {
    throw new CorpusOpenError(list, `cannot read the list of files: ${describeFsError(err)}`, { cause: err });
  }
  const files: string[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, i) => {
    const entry = raw.trim();
    if (entry === '' || entry.startsWith('#')) return;
    const path = isAbsolute(entry) ? entry : join(dirname(list), entry);
    const where = `${list} line ${i + 1}`;
    if (!dataFileKind(path))
      throw new CorpusOpenError(where, `${entry} is not a .jsonl/.ndjson/.json or .parquet file`);
    const first = seen.get(resolve(path));
    if (first !== undefined) throw new CorpusOpenError(where, `${entry} is listed twice (also line ${first})`);
    seen.set(resolve(path), i + 1);
    files.push(path);
  });
  if (files.length === 0) throw new CorpusOpenError(list, 'the list names no file');
  return files;
}

/** The input as run.json records it, still openable from another directory: paths made absolute. */
export function resolveInputName(input: string): string {
  if (input === '-') return input;
  const list = listPath(input);
  if (list !== undefined) return `@${resolve(list)}`;
  return resolve(input);
}

/** Whether the input is still there: the path, the list file, or for a glob the directory before its first pattern. */
export function inputExists(input: string): boolean {
  const list = listPath(input);
  if (list !== undefined) return existsSync(list);
  if (isGlob(input)) {
    const segments = input.split('/');
    const fixed = segments.findIndex((seg) => hasGlobChars(seg));
    return fixed === 0 || existsSync(segments.slice(0, fixed).join('/') || '/');
  }
  return existsSync(input);
}

/**
 * The files [from, to) of a slice: file i, of `sizes[i]` bytes, weighs sizes[i]+1 (so empty files count too) and
 * goes to the slice that holds its midpoint among all files' weights laid end to end: slice ⌊n·(Cᵢ + wᵢ/2)/W⌋,
 * Cᵢ the weight before it, W the total. Contiguous, in order, every file once; deterministic from the sizes alone.
 */
export function fileSplit(sizes: readonly number[], slice: CorpusSlice): { from: number; to: number } {
  checkSlice(slice);
  const n = BigInt(slice.count);
  const total = sizes.reduce((a, s) => a + BigInt(s) + 1n, 0n);
  let before = 0n;
  let from = sizes.length;
  let to = sizes.length;
  for (let i = 0; i < sizes.length; i++) {
    const w = BigInt(sizes[i]!) + 1n;
    const at = Number((n * (2n * before + w)) / (2n * total));
    if (at >= slice.index && from === sizes.length) from = i;
    if (at > slice.index) {
      to = i;
      break;
    }
    before += w;
  }
  return { from: Math.min(from, to), to };
}

/** Physical lines of a JSONL file (as LineSplitter numbers them), or rows of a Parquet file. */
export async function countFileLines(path: string): Promise<number> {
  try {
    if (dataFileKind(path) === 'parquet') {
      const file = await openFileAsyncBuffer(path);
      try {
        const meta = await parquetMetadataAsync(file.buffer);
        return meta.row_groups.reduce((a, g) => a + Number(g.num_rows), 0);
      } finally {
        await file.close();
      }
    }
    const compression = compressionFromPath(path);
    if (compression !== 'none') return await countLines(decompress(fileBytes(path), compression));
    const { size } = await fsp.stat(path);
    const newlines = await countNewlines(path, 0, size);
    if (size === 0) return 0;
    const last = Buffer.alloc(1);
    const handle = await fsp.open(path, 'r');
    try {
      await handle.read(last, 0, 1, size - 1);
    } finally {
      await handle.close();
    }
    return last[0] === 0x0a ? newlines : newlines + 1;
  } catch (err) {
    if (err instanceof CorpusOpenError) throw err;
    throw new CorpusOpenError(path, `cannot count its rows: ${describeFsError(err)}`, { cause: err });
  }
}
