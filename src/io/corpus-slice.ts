/**
 * The i-th of n contiguous slices of a corpus: the assignment rule of sharded scoring, decided by the corpus alone
 * (its bytes, row groups or file list), so every process that asks gets the same answer without talking to another.
 *
 * Slices are contiguous and in order, so concatenating slices 0..n-1 gives the whole corpus, each row exactly once:
 *   plain JSONL       bytes: slice k starts at the first line start at or after ⌊k·size/n⌋ and ends where slice
 *                     k+1 starts. A reader seeks straight to its start; it only counts the newlines before it
 *                     (no parsing) to number its lines as a whole-file read would.
 *   .gz/.zst JSONL    physical lines: compressed streams cannot seek, so the reader first counts the file's
 *                     lines, then takes lines ⌊k·L/n⌋+1 .. ⌊(k+1)·L/n⌋, skipping earlier lines without parsing them.
 *   Parquet           row groups: slice k starts at the first row group starting at or after row ⌊k·R/n⌋.
 *   directory of .txt files: files ⌊k·F/n⌋ .. ⌊(k+1)·F/n⌋-1 of the sorted list.
 * A slice may be empty (more slices than lines, row groups or files).
 */
import { promises as fsp } from 'node:fs';
import { UsageError } from '../errors.js';

export interface CorpusSlice {
  /** 0-based slice number, < count. */
  index: number;
  count: number;
}

export function checkSlice(slice: CorpusSlice): void {
  const { index, count } = slice;
  if (!Number.isSafeInteger(count) || count < 1) throw new UsageError(`\`shard\` count must be a positive integer (got ${count})`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) throw new UsageError(`\`shard\` index must be in 0..${count - 1} (got ${index})`);
}

/** [from, to) of `total` items for a slice: an even split by count. */
export function evenSplit(total: number, slice: CorpusSlice): { from: number; to: number } {
  const at = (k: number) => Math.floor((k * total) / slice.count);
  return { from: at(slice.index), to: at(slice.index + 1) };
}

/** [from, to) rows of a slice whose boundaries may only fall on row-group starts (`groupStarts` ascending, first 0). */
export function groupAlignedSplit(groupStarts: readonly number[], total: number, slice: CorpusSlice): { from: number; to: number } {
  const alignUp = (row: number) => groupStarts.find((s) => s >= row) ?? total;
  const { from, to } = evenSplit(total, slice);
  return { from: from === 0 ? 0 : alignUp(from), to: slice.index === slice.count - 1 ? total : alignUp(to) };
}

const LF = 0x0a;
const PROBE = 64 * 1024;

/** The first line start at or after byte `b` of an open file of `size` bytes (0 for 0, `size` when none). */
async function lineStartAtOrAfter(file: fsp.FileHandle, b: number, size: number): Promise<number> {
  if (b <= 0) return 0;
  const buf = Buffer.allocUnsafe(PROBE);
  // A line starts at b when byte b-1 is '\n': search from b-1.
  for (let pos = b - 1; pos < size; ) {
    const { bytesRead } = await file.read(buf, 0, Math.min(PROBE, size - pos), pos);
    if (bytesRead === 0) break;
    const nl = buf.subarray(0, bytesRead).indexOf(LF);
    if (nl >= 0) return pos + nl + 1;
    pos += bytesRead;
  }
  return size;
}

/** [start, end) bytes of a slice of a line-oriented file, both on line starts. */
export async function byteSlice(path: string, slice: CorpusSlice): Promise<{ start: number; end: number; size: number }> {
  const file = await fsp.open(path, 'r');
  try {
    const { size } = await file.stat();
    const { from, to } = evenSplit(size, slice);
    const start = await lineStartAtOrAfter(file, from, size);
    const end = slice.index === slice.count - 1 ? size : await lineStartAtOrAfter(file, to, size);
    return { start, end, size };
  } finally {
    await file.close();
  }
}

/** How many '\n' bytes the first `end` bytes of a file hold: the line number a reader starting at `end` continues from. */
export async function countNewlines(path: string, end: number): Promise<number> {
  if (end <= 0) return 0;
  const file = await fsp.open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let n = 0;
    for (let pos = 0; pos < end; ) {
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
