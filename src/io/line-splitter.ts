/**
 * Byte-level line splitting with a hard cap on how much one line may buffer.
 *
 * Why bytes and not strings: splitting decoded text would need a streaming
 * decoder that papers over invalid UTF-8; we want each line's raw bytes so a
 * bad line is rejected on its own without disturbing its neighbours.
 *
 * Why a cap: a corpus with a missing newline (or a binary file named .jsonl)
 * would otherwise make us buffer the whole file. Past the cap we drop the
 * line's bytes and only count them until the next '\n'.
 */

export type RawLine =
  /** A complete line without its '\n' (and without a trailing '\r'). */
  | { line: number; bytes: Uint8Array; tooLong?: undefined }
  /** A line longer than the cap; its bytes were discarded. `length` counts every byte up to the newline. */
  | { line: number; bytes?: undefined; tooLong: true; length: number };

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

export class LineSplitter {
  /** Pieces of the current, not yet terminated line (copies, so input chunks can be freed). */
  private parts: Uint8Array[] = [];
  private partsBytes = 0;
  /** Set once the current line passed the cap; from then on we only count. */
  private overflowBytes = -1;
  private lineNo = 0;
  private peakBuffered = 0;

  /** `firstLine`: the number of the first line pushed (a reader that starts mid-file continues the file's numbering). */
  constructor(
    readonly maxLineBytes: number = DEFAULT_MAX_LINE_BYTES,
    firstLine = 1,
  ) {
    if (!(maxLineBytes > 0)) throw new RangeError(`maxLineBytes must be positive, got ${maxLineBytes}`);
    this.lineNo = firstLine - 1;
  }

  /** Bytes currently held for an unfinished line (never more than maxLineBytes). */
  get bufferedBytes(): number {
    return this.partsBytes;
  }

  /** Largest value bufferedBytes has reached; lets tests check the memory bound. */
  get peakBufferedBytes(): number {
    return this.peakBuffered;
  }

  /** Number of the last line emitted (physical line numbers are 1-based): lines emitted so far, from the first line. */
  get linesEmitted(): number {
    return this.lineNo;
  }

  /**
   * Feed one chunk; yields every line it completes. Consume the generator fully
   * before pushing the next chunk.
   */
  *push(chunk: Uint8Array): Generator<RawLine> {
    let pos = 0;
    const n = chunk.length;
    while (pos < n) {
      const nl = chunk.indexOf(LF, pos);
      if (nl === -1) {
        this.append(chunk.subarray(pos));
        return;
      }
      if (this.partsBytes === 0 && this.overflowBytes < 0) {
        // Fast path: the whole line is inside this chunk, no copy needed.
        const len = nl - pos;
        if (len > this.maxLineBytes) {
          yield { line: ++this.lineNo, tooLong: true, length: len };
        } else {
          yield { line: ++this.lineNo, bytes: stripCR(chunk.subarray(pos, nl)) };
        }
      } else {
        this.append(chunk.subarray(pos, nl));
        yield this.take();
      }
      pos = nl + 1;
    }
  }

  /** Signal end of input; yields the last line if the input did not end with '\n'. */
  *end(): Generator<RawLine> {
    if (this.partsBytes > 0 || this.overflowBytes >= 0) yield this.take();
  }

  private append(piece: Uint8Array): void {
    if (piece.length === 0) return;
    if (this.overflowBytes >= 0) {
      this.overflowBytes += piece.length;
      return;
    }
    if (this.partsBytes + piece.length > this.maxLineBytes) {
      // Over the cap: free what we held and only count from here on.
      this.overflowBytes = this.partsBytes + piece.length;
      this.parts = [];
      this.partsBytes = 0;
      return;
    }
    // Copy (new Uint8Array copies; Buffer#slice would not) so the input chunk is not pinned.
    this.parts.push(new Uint8Array(piece));
    this.partsBytes += piece.length;
    if (this.partsBytes > this.peakBuffered) this.peakBuffered = this.partsBytes;
  }

  private take(): RawLine {
    const line = ++this.lineNo;
    if (this.overflowBytes >= 0) {
      const length = this.overflowBytes;
      this.overflowBytes = -1;
      return { line, tooLong: true, length };
    }
    const bytes = this.parts.length === 1 ? this.parts[0]! : concat(this.parts, this.partsBytes);
    this.parts = [];
    this.partsBytes = 0;
    return { line, bytes: stripCR(bytes) };
  }
}

function stripCR(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  return n > 0 && bytes[n - 1] === CR ? bytes.subarray(0, n - 1) : bytes;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
