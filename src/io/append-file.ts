/**
 * Buffered appender for line-oriented outputs (scores.jsonl, errors.jsonl) that
 * supports crash-resume.
 *
 * Resume contract: the caller records `bytes` in its checkpoint right after
 * `sync()`. After a crash the file may hold more than that (bytes written
 * after the checkpoint, possibly a torn last line); `AppendFile.open(path,
 * { resumeBytes })` cuts it back to exactly the checkpointed state.
 *
 * Writes are positional (pwrite at a tracked offset) rather than O_APPEND, so
 * `writeAt` can patch earlier bytes (e.g. a header). Small writes are coalesced
 * into ~1 MiB writes. All I/O goes through one promise chain, so calls stay
 * ordered even if the caller does not await each one.
 */
import { promises as fsp } from 'node:fs';
import { RunStateError } from '../errors.js';

export const DEFAULT_FLUSH_BYTES = 1 << 20;

export interface AppendFileOpenOptions {
  /**
   * Cut the file to this many bytes before appending (crash-resume). The file
   * must be at least this long (0 also works for a missing file: it is created).
   * Omit to append at the current end.
   */
  resumeBytes?: number;
  /** Buffered bytes that trigger a write (default 1 MiB). */
  flushBytes?: number;
}

export class AppendFile {
  private parts: Uint8Array[] = [];
  private buffered = 0;
  /** File offset where the buffered bytes will go. */
  private flushedSize: number;
  /** Serialises all file operations. */
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: fsp.FileHandle,
    size: number,
    private readonly flushBytes: number,
  ) {
    this.flushedSize = size;
  }

  /** Create (or empty) `path` and return an appender positioned at 0. */
  static async create(path: string, opts: { flushBytes?: number } = {}): Promise<AppendFile> {
    const handle = await fsp.open(path, 'w');
    return new AppendFile(path, handle, 0, opts.flushBytes ?? DEFAULT_FLUSH_BYTES);
  }

  /**
   * Open an existing file to append to it. With `resumeBytes`, the file is first
   * cut to that size; a file shorter than that cannot be resumed (RunStateError).
   * A missing file is created when `resumeBytes` is 0 or omitted.
   */
  static async open(path: string, opts: AppendFileOpenOptions = {}): Promise<AppendFile> {
    const { resumeBytes } = opts;
    if (resumeBytes !== undefined && !(Number.isSafeInteger(resumeBytes) && resumeBytes >= 0)) {
      throw new RangeError(`resumeBytes must be a non-negative integer, got ${resumeBytes}`);
    }
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(path, 'r+');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !resumeBytes) {
        return AppendFile.create(path, opts);
      }
      throw err;
    }
    try {
      const { size } = await handle.stat();
      let at = size;
      if (resumeBytes !== undefined) {
        if (size < resumeBytes) {
          throw new RunStateError(
            path,
            `cannot resume: file is ${size} bytes, the checkpoint expects at least ${resumeBytes}`,
          );
        }
        if (size > resumeBytes) await handle.truncate(resumeBytes);
        at = resumeBytes;
      }
      return new AppendFile(path, handle, at, opts.flushBytes ?? DEFAULT_FLUSH_BYTES);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Bytes in the file once everything written so far is flushed. */
  get bytes(): number {
    return this.flushedSize + this.buffered;
  }

  /**
   * Append `data` (strings as UTF-8). Resolves immediately unless the buffer
   * filled up, in which case it resolves once the buffer is written; awaiting
   * every call therefore gives natural back-pressure.
   */
  write(data: string | Uint8Array): Promise<void> {
    if (this.closed || this.failure !== undefined) return Promise.reject(this.unusable());
    // Copy (new Uint8Array copies; Buffer#slice would not): the caller may reuse its buffer.
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : new Uint8Array(data);
    if (bytes.length === 0) return Promise.resolve();
    this.parts.push(bytes);
    this.buffered += bytes.length;
    return this.buffered >= this.flushBytes ? this.flush() : Promise.resolve();
  }

  /** Write all buffered bytes to the file (no fsync). */
  flush(): Promise<void> {
    if (this.buffered === 0) return this.enqueue(async () => undefined);
    const data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.buffered);
    const position = this.flushedSize;
    this.flushedSize += this.buffered;
    this.parts = [];
    this.buffered = 0;
    return this.enqueue(() => writeFully(this.handle, data, position));
  }

  /** flush() and fsync: after this resolves, `bytes` bytes are durable. */
  async sync(): Promise<void> {
    this.assertOpen();
    await this.flush();
    await this.enqueue(() => this.handle.sync());
  }

  /**
   * Overwrite bytes at `position` (e.g. patch a header). Buffered data is flushed
   * first; the range must lie within the bytes written so far.
   */
  async writeAt(position: number, data: Uint8Array): Promise<void> {
    this.assertOpen();
    if (position < 0 || position + data.length > this.bytes) {
      throw new RangeError(`writeAt(${position}, ${data.length} bytes) is outside the file (${this.bytes} bytes)`);
    }
    await this.flush();
    const copy = new Uint8Array(data);
    await this.enqueue(() => writeFully(this.handle, copy, position));
  }

  /** Flush, optionally fsync, and close. Safe to call twice. */
  async close(opts: { sync?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    try {
      if (this.failure === undefined) {
        await this.flush();
        if (opts.sync) await this.enqueue(() => this.handle.sync());
      }
    } finally {
      this.closed = true;
      await this.chain.catch(() => undefined);
      await this.handle.close();
    }
    if (this.failure !== undefined) throw this.failure;
  }

  private enqueue(op: () => Promise<unknown>): Promise<void> {
    const next = this.chain.then(async () => {
      // After one failed write the file state is unknown: refuse everything after it.
      if (this.failure !== undefined) throw this.failure;
      try {
        await op();
      } catch (err) {
        this.failure = err;
        throw err;
      }
    });
    // Keep the chain alive for later operations; errors are reported to the caller via `next`.
    this.chain = next.catch(() => undefined);
    return next;
  }

  private assertOpen(): void {
    if (this.closed || this.failure !== undefined) throw this.unusable();
  }

  private unusable(): unknown {
    return this.failure !== undefined ? this.failure : new Error(`${this.path}: write after close`);
  }
}

async function writeFully(handle: fsp.FileHandle, data: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await handle.write(data, off, data.length - off, position + off);
    off += bytesWritten;
  }
}
