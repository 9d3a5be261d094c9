/**
 * detections.jsonl of `tailguard detect`, joined to the corpus it was run over without holding either: both are in
 * input order and every detection names its corpus line, so a merge on the line joins them in one pass. Rows that
 * could not be scored have no detection (they count as unscored); a detection whose line or id the corpus does not
 * have means the file is of another corpus, and stops the check (UsageError), as does a malformed row (InputError).
 */
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { InputError, UsageError } from '../errors.js';

export interface Detection {
  line: number;
  id: string;
  p_synthetic: number;
  synthetic: boolean;
}

async function* detectionRows(path: string): AsyncGenerator<Detection> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let n = 0;
  let last = 0;
  for await (const text of lines) {
    n++;
    if (!text.trim()) continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new InputError(path, n, `not JSON (${(err as Error).message})`);
    }
    const { line, id, p_synthetic: p, verdict } = r;
    if (typeof line !== 'number' || !Number.isInteger(line) || line < 1)
      throw new InputError(path, n, 'no corpus line ("line"): not a detections.jsonl of `tailguard detect`');
    if (typeof p !== 'number' || (verdict !== 'synthetic' && verdict !== 'human'))
      throw new InputError(path, n, 'needs "p_synthetic" and "verdict" (synthetic or human)');
    if (line <= last) throw new InputError(path, n, `line ${line} after line ${last}: rows must be in input order`);
    last = line;
    yield { line, id: String(id), p_synthetic: p, synthetic: verdict === 'synthetic' };
  }
}

/** Hands out the detection of each corpus row as the corpus is read, in order. */
export class DetectionJoin {
  private readonly rows: AsyncGenerator<Detection>;
  /** The next detection, read ahead (undefined: not read yet; null: none left). */
  private pending: Detection | null | undefined;
  /** Corpus rows passed that had no detection. */
  unscored = 0;

  constructor(
    readonly path: string,
    private readonly corpus: string,
  ) {
    if (!existsSync(path)) throw new UsageError(`${path}: no such detections file`);
    this.rows = detectionRows(path);
  }

  /** The detection of the corpus row at `line` (with id `id`, null when the row has none), or null. */
  async at(line: number, id: string | null): Promise<Detection | null> {
    const d = await this.peek();
    if (d !== null && d.line < line) throw this.foreign(d, 'has no row at that line');
    if (d === null || d.line > line) {
      this.unscored++;
      return null;
    }
    if (id !== null && d.id !== id) throw this.foreign(d, `has id ${JSON.stringify(id)} there`);
    this.pending = undefined;
    return d;
  }

  /** Call after the last corpus row: a detection left over is of another corpus. */
  async finish(): Promise<void> {
    const d = await this.peek();
    if (d) throw this.foreign(d, 'has no row at that line');
  }

  private async peek(): Promise<Detection | null> {
    if (this.pending === undefined) {
      const next = await this.rows.next();
      this.pending = next.done ? null : next.value;
    }
    return this.pending;
  }

  private foreign(d: Detection, what: string): UsageError {
    return new UsageError(
      `${this.path} is not a detections file of ${this.corpus}: its row for line ${d.line} (id ${JSON.stringify(d.id)}) does not match, as ${this.corpus} ${what}; check \`detectionsOf\``,
    );
  }
}
