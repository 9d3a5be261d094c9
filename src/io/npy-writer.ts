/**
 * The .npy format (float32 N × D): an incremental writer, where
 * N is not known until the end (one row per scored document), and readers of a whole file or of its rows in order.
 *
 * Layout: a fixed 128-byte NPY v1.0 header, then row-major little-endian
 * float32 data. Because the header size never changes, the row count can be
 * patched in place at sync/close, and a crashed run can be resumed by cutting
 * the file to 128 + rows*D*4 bytes. NumPy requires the data offset to be a
 * multiple of 64, which 128 is; it accepts any space padding before the '\n'.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import { endianness } from 'node:os';
import { RunStateError } from '../errors.js';
import { AppendFile } from './append-file.js';

export const NPY_HEADER_BYTES = 128;
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] as const; // \x93NUMPY
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** The exact 128-byte header numpy.save writes for a C-order float32 array of shape (rows, dim). */
export function npyHeader(rows: number, dim: number): Uint8Array {
  if (!Number.isSafeInteger(rows) || rows < 0) throw new RangeError(`bad row count ${rows}`);
  if (!Number.isSafeInteger(dim) || dim <= 0) throw new RangeError(`bad dimension ${dim}`);
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`;
  const headerLen = NPY_HEADER_BYTES - 10; // after magic(6) + version(2) + length(2)
  const padded = dict.padEnd(headerLen - 1, ' ') + '\n';
  if (padded.length !== headerLen)
    throw new RangeError(`shape (${rows}, ${dim}) does not fit a ${NPY_HEADER_BYTES}-byte header`);
  const out = new Uint8Array(NPY_HEADER_BYTES);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  out[8] = headerLen & 0xff; // uint16 little-endian
  out[9] = headerLen >> 8;
  out.set(Buffer.from(padded, 'latin1'), 10);
  return out;
}

/** Parse and validate a v1/v2/v3 .npy header for a 2-D little-endian float32 C-order array. */
export function parseNpyHeader(bytes: Uint8Array, what = 'npy file'): { shape: [number, number]; dataOffset: number } {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    throw new Error(`${what}: not an .npy file (bad magic)`);
  const major = bytes[6]!;
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = bytes[8]! | (bytes[9]! << 8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new Error(`${what}: truncated header`);
    headerLen = (bytes[8]! | (bytes[9]! << 8) | (bytes[10]! << 16)) + bytes[11]! * 0x1000000;
    start = 12;
  } else {
    throw new Error(`${what}: unsupported .npy version ${major}.${bytes[7]}`);
  }
  if (bytes.length < start + headerLen) throw new Error(`${what}: truncated header`);
  const dict = Buffer.from(bytes.subarray(start, start + headerLen)).toString('latin1');
  const descr = /'descr':\s*'([^']*)'/.exec(dict)?.[1];
  if (descr !== '<f4') throw new Error(`${what}: dtype ${descr ?? '?'} is not little-endian float32 ('<f4')`);
  if (!/'fortran_order':\s*False/.test(dict)) throw new Error(`${what}: Fortran-order arrays are not supported`);
  const shape = /'shape':\s*\((\d+),\s*(\d+),?\s*\)/.exec(dict);
  if (!shape) throw new Error(`${what}: expected a 2-D shape, header is ${JSON.stringify(dict.trim())}`);
  return { shape: [Number(shape[1]), Number(shape[2])], dataOffset: start + headerLen };
}

/** Little-endian bytes of a float32 array (a view on LE hosts, a swapped copy otherwise). */
function leBytes(data: Float32Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN_HOST) return bytes;
  const out = new Uint8Array(bytes.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  return out;
}

export class NpyWriter {
  private constructor(
    readonly path: string,
    readonly dim: number,
    private readonly file: AppendFile,
    private nRows: number,
  ) {}

  /** Start a new file (replacing any existing one) with 0 rows. */
  static async create(path: string, dim: number): Promise<NpyWriter> {
    const header = npyHeader(0, dim);
    const file = await AppendFile.create(path);
    await file.write(header);
    return new NpyWriter(path, dim, file, 0);
  }

  /**
   * Reopen a partial file to continue appending. With `resumeRows` (from a
   * checkpoint) the file is cut to exactly that many rows; without it, to the
   * complete rows present (a torn last row is dropped). The header on disk may
   * be stale after a crash and is not trusted for the row count.
   * `resumeRows: 0` always starts a new file (the path need not exist).
   */
  static async open(path: string, dim: number, opts: { resumeRows?: number } = {}): Promise<NpyWriter> {
    // Nothing to keep: a fresh start, whatever (if anything) is on disk.
    if (opts.resumeRows === 0) return NpyWriter.create(path, dim);
    const rowBytes = dim * 4;
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(path, 'r');
    } catch (err) {
      throw new RunStateError(path, `cannot resume: ${(err as Error).message}`);
    }
    let size: number;
    const head = new Uint8Array(NPY_HEADER_BYTES);
    try {
      size = (await handle.stat()).size;
      await handle.read(head, 0, NPY_HEADER_BYTES, 0);
    } finally {
      await handle.close();
    }
    if (size < NPY_HEADER_BYTES)
      throw new RunStateError(path, `cannot resume: file is ${size} bytes, shorter than the header`);
    let parsed;
    try {
      parsed = parseNpyHeader(head, path);
    } catch (err) {
      throw new RunStateError(path, `cannot resume: ${(err as Error).message}`);
    }
    if (parsed.dataOffset !== NPY_HEADER_BYTES)
      throw new RunStateError(path, `cannot resume: header is not ${NPY_HEADER_BYTES} bytes`);
    if (parsed.shape[1] !== dim)
      throw new RunStateError(path, `cannot resume: file has ${parsed.shape[1]} columns, expected ${dim}`);
    const available = Math.floor((size - NPY_HEADER_BYTES) / rowBytes);
    const rows = opts.resumeRows ?? available;
    if (!Number.isSafeInteger(rows) || rows < 0) throw new RangeError(`bad resumeRows ${rows}`);
    if (rows > available)
      throw new RunStateError(path, `cannot resume: file holds ${available} rows, the checkpoint expects ${rows}`);
    const file = await AppendFile.open(path, { resumeBytes: NPY_HEADER_BYTES + rows * rowBytes });
    const w = new NpyWriter(path, dim, file, rows);
    await file.writeAt(0, npyHeader(rows, dim));
    return w;
  }

  /** Rows written so far (including buffered ones). */
  get rows(): number {
    return this.nRows;
  }

  /** Append one row or a batch: `data.length` must be a multiple of `dim`, or pass an array of rows. */
  async append(data: Float32Array | readonly Float32Array[]): Promise<void> {
    if (!(data instanceof Float32Array)) {
      for (const row of data) await this.append(row);
      return;
    }
    if (data.length % this.dim !== 0) {
      throw new RangeError(`${this.path}: got ${data.length} values, not a multiple of the row size ${this.dim}`);
    }
    this.nRows += data.length / this.dim;
    await this.file.write(leBytes(data));
  }

  /** Make the file a valid .npy of the rows so far and durable: flush, patch the header, fsync. */
  async sync(): Promise<void> {
    await this.file.writeAt(0, npyHeader(this.nRows, this.dim));
    await this.file.sync();
  }

  /** Patch the header with the final row count and close. */
  async close(opts: { sync?: boolean } = {}): Promise<void> {
    try {
      await this.file.writeAt(0, npyHeader(this.nRows, this.dim));
    } finally {
      await this.file.close(opts);
    }
  }
}

/** Read a whole 2-D float32 .npy file (for tests and small files). */
export function readNpy(path: string): { shape: [number, number]; data: Float32Array } {
  const bytes = readFileSync(path);
  const { shape, dataOffset } = parseNpyHeader(bytes, path);
  const count = shape[0] * shape[1];
  if (bytes.length < dataOffset + count * 4) {
    throw new Error(
      `${path}: header says shape (${shape[0]}, ${shape[1]}) but the file holds only ${bytes.length - dataOffset} data bytes`,
    );
  }
  const data = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataOffset, count * 4);
  for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
  return { shape, data };
}

/**
 * Reads a 2-D float32 .npy one row at a time, in order, with a buffer of `rowsPerRead` rows: flat memory for any
 * number of rows (scores' embeddings beside a streamed scores.jsonl).
 */
export class NpyRowReader {
  private constructor(
    private readonly fd: number,
    readonly path: string,
    readonly rows: number,
    readonly dim: number,
    private readonly dataOffset: number,
    private readonly rowsPerRead: number,
  ) {}

  private buffer = new Float32Array(0);
  private bufferStart = 0;
  private next = 0;

  static open(path: string, rowsPerRead = 1024): NpyRowReader {
    const fd = openSync(path, 'r');
    try {
      const head = new Uint8Array(Math.min(fstatSync(fd).size, 65536));
      readSync(fd, head, 0, head.length, 0);
      const { shape, dataOffset } = parseNpyHeader(head, path);
      if (fstatSync(fd).size < dataOffset + shape[0] * shape[1] * 4)
        throw new Error(`${path}: header says ${shape[0]} rows of ${shape[1]}, the file is shorter`);
      return new NpyRowReader(fd, path, shape[0], shape[1], dataOffset, rowsPerRead);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** The next row (a copy), or null after the last. */
  read(): Float32Array | null {
    if (this.next >= this.rows) return null;
    if (this.next >= this.bufferStart + this.buffer.length / this.dim) {
      const count = Math.min(this.rowsPerRead, this.rows - this.next);
      const bytes = new Uint8Array(count * this.dim * 4);
      readSync(this.fd, bytes, 0, bytes.length, this.dataOffset + this.next * this.dim * 4);
      const view = new DataView(bytes.buffer);
      this.buffer = Float32Array.from({ length: count * this.dim }, (_, i) => view.getFloat32(i * 4, true));
      this.bufferStart = this.next;
    }
    const o = (this.next - this.bufferStart) * this.dim;
    this.next++;
    return this.buffer.slice(o, o + this.dim);
  }

  close(): void {
    closeSync(this.fd);
  }
}
