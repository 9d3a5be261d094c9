/**
 * Convert a JSONL file of flat rows (e.g. scores.jsonl) into Parquet, streaming.
 *
 * Memory stays at about one row group: rows are pulled from the JSONL stream
 * one group at a time (hyparquet-writer's parquetWriteRows with an async
 * iterable), each group is encoded and written out before the next is read.
 *
 * Schema: fixed before the first row group is written, so it is inferred from
 * the first group (columns that are null throughout it are looked up further
 * into the file). Numbers become DOUBLE unless listed in `integerFields`
 * (INT64): whether a column is integral "everywhere" cannot be known up front.
 * A later value that does not fit its column, or a key the first group never
 * had, is an error (pass `columnTypes` to fix the schema explicitly).
 *
 * The output is written to a temp file next to the target and renamed into
 * place, so a crash never leaves a truncated .parquet behind.
 */
import { promises as fsp } from 'node:fs';
import { ByteWriter, parquetWriteRows } from 'hyparquet-writer';
import { renameIntoPlace, tempPathFor } from './atomic.js';
import { compressionFromPath, decompress, fileBytes } from './byte-source.js';
import { typeName } from './fields.js';
import { LineSplitter } from './line-splitter.js';
import { decodeUtf8Strict } from './utf8.js';

export type ParquetColumnType = 'STRING' | 'DOUBLE' | 'INT64' | 'BOOLEAN' | 'JSON';

export interface JsonlToParquetOptions {
  /** Rows per row group (default 65,536). Also the number of rows used to infer the schema. */
  rowGroupSize?: number;
  /** Numeric columns to store as INT64 instead of DOUBLE; a non-integer value in them is an error. */
  integerFields?: readonly string[];
  /** Explicit column types; these win over inference and may name columns absent from the first group. */
  columnTypes?: Readonly<Record<string, ParquetColumnType>>;
  /** Compression codec (default SNAPPY, built into hyparquet-writer). */
  codec?: 'SNAPPY' | 'UNCOMPRESSED';
  /** Extra key/value metadata stored in the file footer. */
  kvMetadata?: { key: string; value?: string }[];
}

export interface JsonlToParquetResult {
  rows: number;
  columns: { name: string; type: ParquetColumnType }[];
}

export const DEFAULT_ROW_GROUP_SIZE = 65_536;

type Row = Record<string, unknown>;

export async function jsonlToParquet(
  jsonlPath: string,
  parquetPath: string,
  opts: JsonlToParquetOptions = {},
): Promise<JsonlToParquetResult> {
  const rowGroupSize = opts.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE;
  if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize <= 0)
    throw new RangeError(`bad rowGroupSize ${rowGroupSize}`);

  const source = jsonlRows(jsonlPath)[Symbol.asyncIterator]();
  // Pull the first group ourselves to fix the schema, then hand the writer
  // that group followed by the rest of the stream.
  const first: { row: Row; line: number }[] = [];
  while (first.length < rowGroupSize) {
    const r = await source.next();
    if (r.done) break;
    first.push(r.value);
  }
  const obs = new ColumnObserver();
  for (const r of first) obs.observe(r.row);
  const untyped = new Set(obs.untyped(opts));
  if (untyped.size > 0 && first.length === rowGroupSize) {
    // Some column was null in every row of the first group: look further into
    // the file (a second, read-only pass) until each has a non-null value, so a
    // late first value does not clash with a guessed type. Costs nothing when
    // every column has a value early, which is the usual case.
    const rescan = jsonlRows(jsonlPath);
    let skip = first.length;
    for await (const r of rescan) {
      if (skip > 0) {
        skip--;
        continue;
      }
      obs.observeOnly(r.row, untyped);
      if (untyped.size === 0) break;
    }
  }
  const columns = decideColumns(obs, opts);
  if (columns.length === 0) {
    throw new Error(`${jsonlPath}: no rows and no columnTypes, cannot determine a Parquet schema`);
  }
  const types = new Map(columns.map((c) => [c.name, c.type]));

  let rows = 0;
  async function* normalized(): AsyncGenerator<Row> {
    for (const r of first) {
      rows++;
      yield normalizeRow(r.row, r.line, types, jsonlPath);
    }
    first.length = 0; // let the first group be collected
    for (;;) {
      const r = await source.next();
      if (r.done) return;
      rows++;
      yield normalizeRow(r.value.row, r.value.line, types, jsonlPath);
    }
  }

  const tmp = tempPathFor(parquetPath);
  const handle = await fsp.open(tmp, 'w');
  try {
    const writer = new FileHandleWriter(handle);
    await parquetWriteRows({
      writer,
      rows: normalized(),
      columns: columns.map((c) => ({ name: c.name, type: c.type, nullable: true })),
      rowGroupSize,
      codec: opts.codec ?? 'SNAPPY',
      kvMetadata: opts.kvMetadata,
      createdBy: 'tailguard',
    });
    await handle.close();
    await renameIntoPlace(tmp, parquetPath);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    await source.return?.(undefined);
    throw err;
  }
  return { rows, columns };
}

/**
 * hyparquet-writer Writer that keeps one row group in memory: ParquetWriter
 * calls flush() after each row group and awaits it before encoding the next,
 * and we write the buffered bytes to the file there.
 */
class FileHandleWriter extends ByteWriter {
  private position = 0;

  constructor(private readonly handle: fsp.FileHandle) {
    super(1 << 20);
  }

  async flush(): Promise<void> {
    let off = 0;
    const bytes = new Uint8Array(this.buffer, 0, this.index);
    while (off < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, off, bytes.length - off, this.position + off);
      off += bytesWritten;
    }
    this.position += bytes.length;
    this.index = 0; // `offset` (total bytes) keeps counting; only the buffer is reused
  }

  override finish(): Promise<void> {
    return this.flush();
  }
}

/** Parsed rows of a JSONL file (blank lines skipped); any malformed line is an error. */
async function* jsonlRows(path: string): AsyncGenerator<{ row: Row; line: number }> {
  const splitter = new LineSplitter();
  const handleLine = (bytes: Uint8Array | undefined, line: number): { row: Row; line: number } | null => {
    if (bytes === undefined) throw new Error(`${path}:${line}: line too long`);
    const d = decodeUtf8Strict(bytes);
    if (!d.ok) throw new Error(`${path}:${line}: invalid UTF-8 at byte offset ${d.offset}`);
    if (d.text.trim() === '') return null;
    let row: unknown;
    try {
      row = JSON.parse(d.text);
    } catch (err) {
      throw new Error(`${path}:${line}: invalid JSON: ${(err as Error).message}`);
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new Error(`${path}:${line}: expected a JSON object, got ${typeName(row)}`);
    }
    return { row: row as Row, line };
  };
  for await (const chunk of decompress(fileBytes(path), compressionFromPath(path))) {
    for (const raw of splitter.push(chunk)) {
      const r = handleLine(raw.bytes, raw.line);
      if (r) yield r;
    }
  }
  for (const raw of splitter.end()) {
    const r = handleLine(raw.bytes, raw.line);
    if (r) yield r;
  }
}

/** What the rows seen so far say about each column: first-seen order and the value kinds. */
class ColumnObserver {
  readonly order: string[] = [];
  readonly kinds = new Map<string, Set<ParquetColumnType>>();

  observe(row: Row): void {
    for (const [k, v] of Object.entries(row)) {
      let kinds = this.kinds.get(k);
      if (!kinds) {
        kinds = new Set();
        this.kinds.set(k, kinds);
        this.order.push(k);
      }
      const t = valueType(v);
      if (t) kinds.add(t);
    }
  }

  /** Columns with only nulls so far whose type is not given by the options. */
  untyped(opts: JsonlToParquetOptions): string[] {
    const integer = new Set(opts.integerFields ?? []);
    return this.order.filter((k) => this.kinds.get(k)!.size === 0 && !integer.has(k) && !opts.columnTypes?.[k]);
  }

  /** Fill in kinds for `names` from later rows only (never adds columns). */
  observeOnly(row: Row, names: Set<string>): void {
    for (const k of names) {
      const t = valueType(row[k]);
      if (t) {
        this.kinds.get(k)!.add(t);
        names.delete(k);
      }
    }
  }
}

function decideColumns(obs: ColumnObserver, opts: JsonlToParquetOptions): { name: string; type: ParquetColumnType }[] {
  const integer = new Set(opts.integerFields ?? []);
  const explicit = opts.columnTypes ?? {};
  // Column order: first appearance in the first group, then explicit-only columns.
  const order = [...obs.order, ...Object.keys(explicit).filter((k) => !obs.kinds.has(k))];
  return order.map((name) => {
    const given = explicit[name];
    if (given) return { name, type: given };
    const kinds = obs.kinds.get(name) ?? new Set();
    if (integer.has(name)) {
      if ([...kinds].some((k) => k !== 'DOUBLE')) throw new Error(`integer field "${name}" holds non-numbers`);
      return { name, type: 'INT64' as const };
    }
    if (kinds.size > 1) throw new Error(`column "${name}" mixes ${[...kinds].join(' and ')} values; pass columnTypes`);
    // Null in every row of the file: STRING, the most permissive flat type.
    return { name, type: [...kinds][0] ?? 'STRING' };
  });
}

function valueType(v: unknown): ParquetColumnType | undefined {
  if (v === null || v === undefined) return undefined;
  switch (typeof v) {
    case 'string':
      return 'STRING';
    case 'number':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    default:
      return 'JSON';
  }
}

/** Row restricted to the schema's columns, missing ones null, values checked (and INT64 as bigint). */
function normalizeRow(row: Row, line: number, types: Map<string, ParquetColumnType>, path: string): Row {
  for (const k of Object.keys(row)) {
    if (!types.has(k))
      throw new Error(`${path}:${line}: column "${k}" was not in the first row group; pass columnTypes to declare it`);
  }
  const out: Row = {};
  for (const [name, type] of types) {
    const v = row[name];
    if (v === null || v === undefined) {
      out[name] = null;
      continue;
    }
    const bad = () =>
      new Error(`${path}:${line}: column "${name}" is ${type}, got ${typeName(v)} ${JSON.stringify(v)?.slice(0, 40)}`);
    switch (type) {
      case 'STRING':
        if (typeof v !== 'string') throw bad();
        out[name] = v;
        break;
      case 'DOUBLE':
        if (typeof v !== 'number') throw bad();
        out[name] = v;
        break;
      case 'INT64':
        if (typeof v !== 'number' || !Number.isInteger(v)) throw bad();
        out[name] = BigInt(v);
        break;
      case 'BOOLEAN':
        if (typeof v !== 'boolean') throw bad();
        out[name] = v;
        break;
      case 'JSON':
        out[name] = v;
        break;
    }
  }
  return out;
}
