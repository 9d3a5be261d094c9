/**
 * Directory corpus: every `.txt` file below a directory is one document.
 *
 * Order is the sorted relative path (plain code-unit order, '/' separators),
 * so the record index of a file is stable across runs and machines: that is
 * what makes resume and output alignment work. Only the list of names is held
 * in memory; each file is read when its turn comes, and files over the size
 * cap are never read.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { CorpusOpenError } from '../errors.js';
import { checkSlice, evenSplit, type CorpusSlice } from './corpus-slice.js';
import { checkText } from './fields.js';
import { describeFsError, statCorpusPath } from './fs-checks.js';
import { DEFAULT_MAX_LINE_BYTES } from './line-splitter.js';
import type { InputRecord } from './records.js';
import { decodeUtf8Strict } from './utf8.js';

export interface TextDirReadOptions {
  /** Files larger than this become a BadRecord without being read (default 64 MiB). */
  maxDocBytes?: number;
  /** Resume support: files before this 0-based position are not opened. */
  startIndex?: number;
  /** Only this slice of the sorted files (corpus-slice.ts), numbered as in the whole list; `startIndex` then counts from the slice's first file. */
  slice?: CorpusSlice;
}

/** Relative paths ('/'-separated) of all .txt files under `dir`, sorted. */
export async function listTextFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  await walk(dir, '', out);
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function walk(root: string, rel: string, out: string[]): Promise<void> {
  const abs = rel === '' ? root : join(root, rel);
  const entries = await fsp.readdir(abs, { withFileTypes: true });
  for (const e of entries) {
    const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) {
      await walk(root, childRel, out);
    } else if (isTxt(e.name)) {
      if (e.isFile()) {
        out.push(childRel);
      } else if (e.isSymbolicLink()) {
        // Follow links to files; links to directories are not descended (no cycles).
        const st = await fsp.stat(join(root, childRel)).catch(() => undefined);
        if (st?.isFile()) out.push(childRel);
      }
    }
  }
}

function isTxt(name: string): boolean {
  return name.toLowerCase().endsWith('.txt');
}

const BOM = [0xef, 0xbb, 0xbf] as const;

export async function* readTextDir(dir: string, opts: TextDirReadOptions = {}): AsyncGenerator<InputRecord> {
  const maxDocBytes = opts.maxDocBytes ?? DEFAULT_MAX_LINE_BYTES;
  if (opts.slice) checkSlice(opts.slice);
  const st = await statCorpusPath(dir);
  if (!st.isDirectory()) throw new CorpusOpenError(dir, 'not a directory');
  let files: string[];
  try {
    files = await listTextFiles(dir);
  } catch (err) {
    throw new CorpusOpenError(dir, `cannot list: ${describeFsError(err)}`, { cause: err });
  }
  const range = opts.slice ? evenSplit(files.length, opts.slice) : { from: 0, to: files.length };
  for (let i = range.from + (opts.startIndex ?? 0); i < range.to; i++) {
    const rel = files[i]!;
    const file = join(dir, ...rel.split('/'));
    const line = i + 1;
    const bad = (reason: string): InputRecord => ({ kind: 'bad', index: i, line, id: rel, file, reason });

    let bytes: Uint8Array;
    try {
      const r = await readCapped(file, maxDocBytes);
      if (r.tooLarge !== undefined) {
        yield bad(`file is ${r.tooLarge} bytes, exceeds the limit of ${maxDocBytes} bytes`);
        continue;
      }
      bytes = r.bytes;
    } catch (err) {
      // One unreadable file is a bad row, not a failed corpus.
      yield bad(`cannot read: ${describeFsError(err)}`);
      continue;
    }
    if (bytes.length >= 3 && bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2])
      bytes = bytes.subarray(3);
    const decoded = decodeUtf8Strict(bytes);
    if (!decoded.ok) {
      yield bad(`invalid UTF-8 at byte offset ${decoded.offset} of the file`);
      continue;
    }
    const text = checkText(decoded.text, true, 'text');
    if (!text.ok) {
      yield bad(text.reason);
      continue;
    }
    yield { kind: 'doc', index: i, line, id: rel, text: text.value, file };
  }
}

/** Whole file, unless it is over `max` bytes (checked before reading, and again while reading in case it grew). */
async function readCapped(
  path: string,
  max: number,
): Promise<{ bytes: Uint8Array; tooLarge?: undefined } | { tooLarge: number }> {
  const handle = await fsp.open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > max) return { tooLarge: size };
    // One byte more than allowed tells us if the file grew past the cap since stat().
    const buf = new Uint8Array(Math.min(size, max) + 1);
    let off = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, off, buf.length - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
      if (off === buf.length) {
        if (off > max) return { tooLarge: off };
        throw new Error('file changed while being read');
      }
    }
    return { bytes: buf.subarray(0, off) };
  } finally {
    await handle.close();
  }
}
