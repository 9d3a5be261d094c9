/**
 * Repeated ids in a scoring run, found while rows are written, in memory that grows with rows, not with id length.
 *
 * Each id is kept as the first 64 bits of its SHA-1, in an open-addressing table at most 3/4 full: 11–22 bytes a row
 * (33 while the table doubles), so tens of millions of rows take a few hundred MiB. The check is exact up to hash
 * collisions: two different ids share 64 bits with probability about n²/2⁶⁵ over n rows (3·10⁻⁴ at 10⁸ rows), and a
 * collision can only report a repeat that is not there, never hide one.
 *
 * Resume: the hashes are also appended to a log beside the outputs (8 bytes a row), committed with them; a
 * restarted run cuts the log back to the checkpoint, reloads it and goes on counting, so it ends with the count of
 * an uninterrupted run and never counts its own earlier rows as repeats.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RunStateError } from '../errors.js';
import { AppendFile } from '../io/append-file.js';

/** The hash log of a run in progress; removed when the run finishes. */
export const ID_HASHES_FILE = 'id-hashes.bin';

/** Repeated ids named in run.json and the warning. */
const MAX_EXAMPLES = 5;

export interface DuplicateIds {
  /** Input rows whose id an earlier row already had (an id on three rows counts 2); rows without an id are not counted. */
  count: number;
  /** Up to 5 repeated ids, in the order their first repeat was read. */
  examples: string[];
  /** The first repeat: its id, source file and 1-based line (row) number. */
  first: { id: string; file: string; line: number } | null;
  /**
   * 'hash64': ids compared by 64-bit hashes (exact up to hash collisions); 'none': not checked, because the ids are
   * line numbers or file paths (no id field), unique by construction.
   */
  method: 'hash64' | 'none';
}

/** What a run without an id field reports. */
export const UNCHECKED_IDS: DuplicateIds = { count: 0, examples: [], first: null, method: 'none' };

/** The tracker's state as a checkpoint holds it. */
export interface IdRepeatState {
  found: DuplicateIds;
  /** Committed size of the hash log. */
  hashBytes: number;
}

/** A set of 64-bit values (as two 32-bit halves), open addressing with linear probing, at most 3/4 full. */
export class HashSet64 {
  private hi = new Uint32Array(1024);
  private lo = new Uint32Array(1024);
  private size = 0;

  /** Adds the value; true when it was not there yet. */
  add(hi: number, lo: number): boolean {
    if (hi === 0 && lo === 0) lo = 1; // (0, 0) marks an empty slot: stored as (0, 1), one more 2⁻⁶⁴ collision
    const mask = this.hi.length - 1;
    for (let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask; ; i = (i + 1) & mask) {
      if (this.hi[i] === 0 && this.lo[i] === 0) break;
      if (this.hi[i] === hi && this.lo[i] === lo) return false;
    }
    if (4 * (this.size + 1) > 3 * this.hi.length) this.grow();
    this.place(hi, lo);
    this.size++;
    return true;
  }

  private place(hi: number, lo: number): void {
    const mask = this.hi.length - 1;
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
    while (this.hi[i] !== 0 || this.lo[i] !== 0) i = (i + 1) & mask;
    this.hi[i] = hi;
    this.lo[i] = lo;
  }

  private grow(): void {
    const { hi, lo } = this;
    this.hi = new Uint32Array(hi.length * 2);
    this.lo = new Uint32Array(lo.length * 2);
    for (let i = 0; i < hi.length; i++) if (hi[i] !== 0 || lo[i] !== 0) this.place(hi[i]!, lo[i]!);
  }
}

/** The first 8 bytes of the id's SHA-1 (of its UTF-8). */
export function idHash(id: string): Buffer {
  return createHash('sha1').update(id, 'utf8').digest().subarray(0, 8);
}

/** Counts repeated ids of the rows of a run, in the order they are written, with a resumable hash log. */
export class IdRepeats {
  private readonly seen = new HashSet64();
  /** Hashes not yet handed to the log (one write per 8192 rows, not per row). */
  private readonly pending = Buffer.alloc(1 << 16);
  private pendingBytes = 0;

  private constructor(
    private readonly log: AppendFile,
    private readonly found: DuplicateIds,
  ) {}

  /** Opens the log in `dir`, cut back to `state` (empty without one), and reloads the ids committed so far. */
  static async open(dir: string, state: IdRepeatState | undefined): Promise<IdRepeats> {
    const path = join(dir, ID_HASHES_FILE);
    const hashBytes = state?.hashBytes ?? 0;
    const log = await AppendFile.open(path, { resumeBytes: hashBytes });
    const found = state
      ? { ...state.found, examples: [...state.found.examples] }
      : { count: 0, examples: [], first: null, method: 'hash64' as const };
    const repeats = new IdRepeats(log, found);
    repeats.reload(path, hashBytes);
    return repeats;
  }

  /** Deletes the log (once the run's counts are final). */
  static remove(dir: string): void {
    rmSync(join(dir, ID_HASHES_FILE), { force: true });
  }

  /** Records the id of the next row written; a repeat is counted, and the first few are remembered. */
  async see(id: string, file: string, line: number): Promise<void> {
    const h = idHash(id);
    if (!this.seen.add(h.readUInt32LE(0), h.readUInt32LE(4))) {
      this.found.count++;
      this.found.first ??= { id, file, line };
      if (this.found.examples.length < MAX_EXAMPLES && !this.found.examples.includes(id)) this.found.examples.push(id);
    }
    h.copy(this.pending, this.pendingBytes);
    this.pendingBytes += 8;
    if (this.pendingBytes === this.pending.length) await this.drain();
  }

  /** Makes the log durable; returns what a checkpoint records. */
  async sync(): Promise<IdRepeatState> {
    await this.drain();
    await this.log.sync();
    return { found: { ...this.found, examples: [...this.found.examples] }, hashBytes: this.log.bytes };
  }

  async close(): Promise<void> {
    try {
      await this.drain();
    } finally {
      await this.log.close();
    }
  }

  private async drain(): Promise<void> {
    const bytes = this.pending.subarray(0, this.pendingBytes);
    this.pendingBytes = 0;
    await this.log.write(bytes); // copied by the log
  }

  private reload(path: string, bytes: number): void {
    if (bytes === 0) return;
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(1 << 23);
      for (let at = 0; at < bytes;) {
        const want = Math.min(buf.length, bytes - at);
        const n = readSync(fd, buf, 0, want, at);
        if (n !== want)
          throw new RunStateError(
            path,
            `cannot resume: short read at byte ${at} of the ${bytes} the checkpoint expects`,
          );
        for (let o = 0; o < n; o += 8) this.seen.add(buf.readUInt32LE(o), buf.readUInt32LE(o + 4));
        at += n;
      }
    } finally {
      closeSync(fd);
    }
  }
}

/** The stderr warning for a run's repeated ids, or null when there are none. */
export function duplicateIdsWarning(d: DuplicateIds | undefined): string | null {
  if (!d || d.count === 0) return null;
  const ids = d.examples.map((id) => JSON.stringify(id)).join(', ');
  const where = d.first
    ? `; the first repeat is ${d.first.file} ${/\.parquet$/i.test(d.first.file) ? 'row' : 'line'} ${d.first.line} (id ${JSON.stringify(d.first.id)})`
    : '';
  return (
    `${d.count} input row${d.count === 1 ? '' : 's'} repeat${d.count === 1 ? 's' : ''} the id of an earlier row (repeated ids: ${ids})${where}. ` +
    'Every row is still scored and written: tell rows apart by their line, not their id.'
  );
}
