/**
 * The i-th of n contiguous slices of a corpus: the assignment rule of sharded scoring, decided by the corpus alone
 * (its bytes, row groups or file list), so every process that asks gets the same answer without talking to another.
 *
 * Slices are contiguous and in order, so concatenating slices 0..n-1 gives the whole corpus, each row exactly once.
 * Rows are numbered by position p = line − 1 (JSONL physical lines, blank ones included; Parquet rows; the sorted
 * .txt files). Every boundary is rounded up to a multiple of `align` (score passes its chunk size, so a shard's
 * chunks are the whole-input run's chunks and its scores the same bytes):
 *   plain JSONL       bytes: slice k starts near byte ⌊k·size/n⌋: at the first line starting there or later, then
 *                     on to the next aligned line. A reader seeks to that byte and only counts newlines before it
 *                     (memchr, no parsing) to know its line numbers; it reads past its end byte to the next
 *                     aligned line.
 *   .gz/.zst JSONL    lines: compressed streams cannot seek, so the reader first counts the file's lines L, then
 *                     takes positions align↑(⌊k·L/n⌋) .. align↑(⌊(k+1)·L/n⌋)−1, skipping earlier lines unparsed.
 *   Parquet           rows, the same way (R rows); only the row groups that hold the slice are read.
 *   directory of .txt files: files, the same way (F files).
 *   many JSONL/Parquet files (corpus-files.ts): whole files, balanced by bytes (fileSplit there); chunks end at file
 *                     ends, so no alignment is needed.
 * A slice may be empty (more slices than aligned blocks).
 */
import { promises as fsp } from 'node:fs';
import { UsageError } from '../errors.js';

export interface CorpusSlice {
  /** 0-based slice number, < count. */
  index: number;
  count: number;
  /** Boundaries fall on row positions that are multiples of this (default 1). */
  align?: number;
}

export function checkSlice(slice: CorpusSlice): void {
  const { index, count } = slice;
  if (!Number.isSafeInteger(count) || count < 1)
    throw new UsageError(`\`shard\` count must be a positive integer (got ${count})`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= count)
    throw new UsageError(`\`shard\` index must be in 0..${count - 1} (got ${index})`);
}

const alignUp = (p: number, align = 1): number => Math.ceil(p / align) * align;

/** [from, to) positions of `total` rows for a slice: an even split by count, boundaries aligned. */
export function evenSplit(total: number, slice: CorpusSlice): { from: number; to: number } {
  const at = (k: number) =>
    k === 0
      ? 0
      : k === slice.count
        ? total
        : Math.min(total, alignUp(Math.floor((k * total) / slice.count), slice.align));
  return { from: at(slice.index), to: at(slice.index + 1) };
}

const LF = 0x0a;
const PROBE = 64 * 1024;

/** The first line start at or after byte `b` of an open file of `size` bytes (0 for 0, `size` when none). */
async function lineStartAtOrAfter(file: fsp.FileHandle, b: number, size: number): Promise<number> {
  if (b <= 0) return 0;
  const buf = Buffer.allocUnsafe(PROBE);
  // A line starts at b when byte b-1 is '\n': search from b-1.
  for (let pos = b - 1; pos < size;) {
    const { bytesRead } = await file.read(buf, 0, Math.min(PROBE, size - pos), pos);
    if (bytesRead === 0) break;
    const nl = buf.subarray(0, bytesRead).indexOf(LF);
    if (nl >= 0) return pos + nl + 1;
    pos += bytesRead;
  }
  return size;
}

/** [start, end) bytes of the even byte split of a line-oriented file, both moved to line starts (before alignment). */
export async function byteSlice(
  path: string,
  slice: CorpusSlice,
): Promise<{ start: number; end: number; size: number }> {
  const file = await fsp.open(path, 'r');
  try {
    const { size } = await file.stat();
    const at = (k: number) => Math.floor((k * size) / slice.count);
    const start = await lineStartAtOrAfter(file, at(slice.index), size);
    const end = slice.index === slice.count - 1 ? size : await lineStartAtOrAfter(file, at(slice.index + 1), size);
    return { start, end, size };
  } finally {
    await file.close();
  }
}

/**
 * The slice of a plain JSONL file: the byte to start reading at, the number of the line there, and the positions
 * [from, to) of the lines to take (to = Infinity for the last slice: read to the end).
 */
export async function jsonlSlice(
  path: string,
  slice: CorpusSlice,
): Promise<{ startByte: number; firstLine: number; from: number; to: number }> {
  const { start, end, size } = await byteSlice(path, slice);
  const before = await countNewlines(path, 0, start);
  // Up to the end of the file (an unterminated last line has no newline to count): later slices are empty.
  const last = slice.index === slice.count - 1 || end >= size;
  const to = last ? Infinity : alignUp(before + (await countNewlines(path, start, end)), slice.align);
  return { startByte: start, firstLine: before + 1, from: alignUp(before, slice.align), to };
}

/** How many '\n' bytes bytes [start, end) of a file hold. */
export async function countNewlines(path: string, start: number, end: number): Promise<number> {
  if (end <= start) return 0;
  const file = await fsp.open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let n = 0;
    for (let pos = start; pos < end;) {
      const { bytesRead } = await file.read(buf, 0, Math.min(buf.length, end - pos), pos);
      if (bytesRead === 0) break;
      const view = buf.subarray(0, bytesRead);
      for (let i = view.indexOf(LF); i >= 0; i = view.indexOf(LF, i + 1)) n++;
      pos += bytesRead;
    }
    return n;
  } finally {
    await file.close();
  }
}

/** Physical lines of a byte stream as LineSplitter numbers them: newlines, plus one for an unterminated last line. */
export async function countLines(bytes: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  let last = LF;
  for await (const chunk of bytes) {
    if (chunk.length === 0) continue;
    for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) n++;
    last = chunk[chunk.length - 1]!;
  }
  return last === LF ? n : n + 1;
}
