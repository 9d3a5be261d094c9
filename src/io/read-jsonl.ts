/**
 * JSONL corpus reader: plain, .gz or .zst, from a file or stdin.
 *
 * Memory is bounded by the read chunk size plus one line (itself capped at
 * maxLineBytes), so corpora far larger than RAM stream through.
 */
import { CorpusOpenError, TailguardError } from '../errors.js';
import { createReadStream } from 'node:fs';
import {
  compressionFromMagic,
  compressionFromPath,
  decompress,
  fileBytes,
  READ_CHUNK_BYTES,
  sniff,
  type Compression,
} from './byte-source.js';
import { checkSlice, countLines, evenSplit, jsonlSlice, type CorpusSlice } from './corpus-slice.js';
import { assertReadableFile } from './fs-checks.js';
import { checkText, DEFAULT_TEXT_FIELD, idForBadRow, resolveId, typeName } from './fields.js';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter, type RawLine } from './line-splitter.js';
import { pickFields, type BadRecord, type CorpusOptions, type InputRecord } from './records.js';
import { decodeUtf8Strict } from './utf8.js';

export interface JsonlReadOptions extends CorpusOptions {
  /** Lines longer than this become a BadRecord instead of being buffered (default 64 MiB). */
  maxLineBytes?: number;
  /**
   * Resume support: records with index < startIndex are counted but not parsed
   * or yielded, so the first record yielded has index === startIndex.
   */
  startIndex?: number;
  /** Default 'auto': by file extension, or by magic bytes for stdin / streams. */
  compression?: Compression | 'auto';
  /**
   * Only this slice of the file (corpus-slice.ts), lines numbered as in the whole file; `startIndex` then counts
   * from the slice's first record. Not for stdin.
   */
  slice?: CorpusSlice;
  /** With readJsonlStream: the number of the stream's first line (default 1). */
  firstLine?: number;
  /** With readJsonlStream: only lines in [from, to] (1-based, inclusive); earlier lines are not parsed, reading stops after `to`. */
  lines?: { from: number; to: number };
  /**
   * Added to every record's line number (and so to line-number ids): the lines of the files before this one when
   * many files are read as one corpus (corpus-files.ts). Not with `slice`.
   */
  lineOffset?: number;
}

/** The name stdin records carry in their `file` field. */
export const STDIN_NAME = '<stdin>';

/** Read a JSONL file (`.gz`/`.zst` decompressed by extension), or stdin when `path` is '-'. */
export async function* readJsonl(path: string, opts: JsonlReadOptions = {}): AsyncGenerator<InputRecord, ReadTally> {
  if (path === '-') return yield* readJsonlStream(process.stdin, STDIN_NAME, opts);
  await assertReadableFile(path);
  const compression =
    opts.compression === undefined || opts.compression === 'auto' ? compressionFromPath(path) : opts.compression;
  if (!opts.slice) return yield* readJsonlStream(fileBytes(path), path, { ...opts, compression });
  checkSlice(opts.slice);
  if (compression === 'none') {
    // Seek to the slice; the newlines before it (counted, not parsed) give its lines their whole-file numbers.
    const { startByte, firstLine, from, to } = await jsonlSlice(path, opts.slice);
    if (to <= from) return { records: 0, lines: 0 };
    const bytes = createReadStream(path, { start: startByte, highWaterMark: READ_CHUNK_BYTES });
    return yield* readJsonlStream(bytes, path, { ...opts, compression, firstLine, lines: { from: from + 1, to } });
  }
  // A compressed stream cannot seek: count its lines, then read again, parsing only the slice's lines.
  let total: number;
  try {
    total = await countLines(decompress(fileBytes(path), compression));
  } catch (err) {
    throw wrapReadError(path, err, 0);
  }
  const { from, to } = evenSplit(total, opts.slice);
  if (to <= from) return { records: 0, lines: 0 };
  return yield* readJsonlStream(fileBytes(path), path, { ...opts, compression, lines: { from: from + 1, to } });
}

/** What a reader went through: records (produced or skipped by `startIndex`) and the last line number it reached. */
export interface ReadTally {
  records: number;
  lines: number;
}

/**
 * Read JSONL from any byte stream. `file` is only used in records and messages.
 * With compression 'auto' (the default here) the first bytes decide.
 */
export async function* readJsonlStream(
  source: AsyncIterable<Uint8Array>,
  file: string,
  opts: JsonlReadOptions = {},
): AsyncGenerator<InputRecord, ReadTally> {
  const parser = new JsonlLineParser(file, opts);
  let bytes: AsyncIterable<Uint8Array>;
  try {
    let compression = opts.compression ?? 'auto';
    if (compression === 'auto') {
      const s = await sniff(source);
      compression = compressionFromMagic(s.head);
      source = s.stream;
    }
    bytes = decompress(source, compression);
  } catch (err) {
    throw wrapReadError(file, err, 0);
  }
  const splitter = new LineSplitter(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, opts.firstLine ?? 1);
  const from = opts.lines?.from ?? 1;
  const to = opts.lines?.to ?? Infinity;
  try {
    read: for await (const chunk of bytes) {
      for (const raw of splitter.push(chunk)) {
        if (raw.line < from) continue;
        if (raw.line > to) break read;
        const rec = parser.parse(raw);
        if (rec) yield rec;
      }
    }
    if (splitter.linesEmitted < to) {
      for (const raw of splitter.end()) {
        if (raw.line < from || raw.line > to) continue;
        const rec = parser.parse(raw);
        if (rec) yield rec;
      }
    }
  } catch (err) {
    // Decompression or I/O failure part-way: the rest of the corpus is unreadable.
    throw wrapReadError(file, err, splitter.linesEmitted);
  }
  return { records: parser.records, lines: splitter.linesEmitted };
}

function wrapReadError(file: string, err: unknown, lines: number): Error {
  if (err instanceof TailguardError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const where = lines > 0 ? ` after line ${lines}` : '';
  return new CorpusOpenError(file, `read failed${where}: ${msg}`, { cause: err });
}

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/** Turns raw lines into records; holds the running record index. */
export class JsonlLineParser {
  private index = 0;
  private readonly startIndex: number;
  private readonly textField: string;
  private readonly idField: string | undefined;
  private readonly maxLineBytes: number;
  private readonly keepFields: string[] | undefined;
  private readonly lineOffset: number;

  constructor(
    private readonly file: string,
    opts: JsonlReadOptions = {},
  ) {
    this.startIndex = opts.startIndex ?? 0;
    this.textField = opts.textField ?? DEFAULT_TEXT_FIELD;
    this.idField = opts.idField;
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.keepFields = opts.keepFields;
    this.lineOffset = opts.lineOffset ?? 0;
  }

  /** Records so far, skipped ones included. */
  get records(): number {
    return this.index;
  }

  /** The record for one physical line, or null for a blank or skipped line. */
  parse(raw: RawLine): InputRecord | null {
    const line = raw.line + this.lineOffset;
    if (raw.tooLong) {
      if (this.skip()) return null;
      return this.bad(
        line,
        this.idField === undefined ? String(line) : null,
        `line is ${raw.length} bytes, exceeds the limit of ${this.maxLineBytes} bytes`,
      );
    }
    let bytes = raw.bytes;
    // A BOM is a file marker, not content; only the first line can carry one.
    if (
      raw.line === 1 &&
      bytes.length >= 3 &&
      bytes[0] === UTF8_BOM[0] &&
      bytes[1] === UTF8_BOM[1] &&
      bytes[2] === UTF8_BOM[2]
    ) {
      bytes = bytes.subarray(3);
    }
    // Blank lines yield nothing but still advance the line number. Decided on bytes
    // (before decoding) so that skipping on resume agrees exactly with reading.
    if (isBlank(bytes)) return null;
    // Skipped records are counted but never decoded or JSON-parsed: resume stays cheap.
    if (this.skip()) return null;

    const fallbackId = this.idField === undefined ? String(line) : null;
    const decoded = decodeUtf8Strict(bytes);
    if (!decoded.ok) return this.bad(line, fallbackId, `invalid UTF-8 at byte offset ${decoded.offset} of the line`);
    let row: unknown;
    try {
      row = JSON.parse(decoded.text);
    } catch (err) {
      return this.bad(line, fallbackId, `invalid JSON: ${(err as Error).message}`);
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      return this.bad(line, fallbackId, `line is a JSON ${typeName(row)}, expected an object`);
    }
    const obj = row as Record<string, unknown>;
    const idPresent = this.idField !== undefined && Object.hasOwn(obj, this.idField);
    const idValue = idPresent ? obj[this.idField!] : undefined;

    const text = checkText(obj[this.textField], Object.hasOwn(obj, this.textField), this.textField);
    if (!text.ok) return this.bad(line, idForBadRow(idValue, idPresent, line, this.idField), text.reason);
    const id = resolveId(idValue, idPresent, line, this.idField);
    if (!id.ok) return this.bad(line, null, id.reason);
    const fields = pickFields(obj, this.keepFields);
    return {
      kind: 'doc',
      index: this.index++,
      line,
      id: id.value,
      text: text.value,
      file: this.file,
      ...(fields ? { fields } : {}),
    };
  }

  /** Counts one record; true when it falls before startIndex and must not be produced. */
  private skip(): boolean {
    if (this.index < this.startIndex) {
      this.index++;
      return true;
    }
    return false;
  }

  private bad(line: number, id: string | null, reason: string): BadRecord {
    return { kind: 'bad', index: this.index++, line, id, file: this.file, reason };
  }
}

/** Only JSON-insignificant ASCII whitespace (plus \v, \f)? Scans until the first other byte. */
function isBlank(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0b && b !== 0x0c) return false;
  }
  return true;
}
