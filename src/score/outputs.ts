/**
 * The files of a scoring run, appended while it goes and renamed into place when it ends.
 * Rows land in `*.partial` files; `commit` makes them durable and records their sizes in the
 * checkpoint, which is what a restarted run truncates back to.
 */
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AppendFile } from '../io/append-file.js';
import { NpyWriter } from '../io/npy-writer.js';
import type { BadRecord, DocRecord } from '../io/records.js';
import type { LmSignals } from '../signals/lm-signals.js';
import type { PositionedSignals } from '../signals/positioned.js';
import type { TokenDistribution } from '../signals/token-distribution.js';
import type { TextSignals } from '../signals/text-signals.js';
import { CHECKPOINT_FILE, type Checkpoint } from './checkpoint.js';
import { ID_HASHES_FILE } from './duplicate-ids.js';
import { SCORE_FILES } from './score-dir.js';

const partial = (name: string): string => `${name}.partial`;

export class RunOutputs {
  private constructor(
    private readonly scores: AppendFile,
    private readonly errors: AppendFile,
    private readonly embeddings: NpyWriter,
  ) {}

  /** Opens the partial files, truncated to what `checkpoint` committed (empty without one). */
  static async open(dir: string, dim: number, checkpoint: Checkpoint | null): Promise<RunOutputs> {
    const opened: { close(): Promise<void> }[] = [];
    try {
      const scores = await AppendFile.open(join(dir, partial(SCORE_FILES.scores)), {
        resumeBytes: checkpoint?.scoresBytes ?? 0,
      });
      opened.push(scores);
      const errors = await AppendFile.open(join(dir, partial(SCORE_FILES.errors)), {
        resumeBytes: checkpoint?.errorsBytes ?? 0,
      });
      opened.push(errors);
      const embeddings = await NpyWriter.open(join(dir, partial(SCORE_FILES.embeddings)), dim, {
        resumeRows: checkpoint?.counters.scored ?? 0,
      });
      return new RunOutputs(scores, errors, embeddings);
    } catch (err) {
      await Promise.all(opened.map((f) => f.close().catch(() => undefined)));
      throw err;
    }
  }

  /** Renames whichever partial files are left into place; safe to repeat after a crash half-way. */
  static moveIntoPlace(dir: string): void {
    for (const name of [SCORE_FILES.scores, SCORE_FILES.errors, SCORE_FILES.embeddings]) {
      const from = join(dir, partial(name));
      if (existsSync(from)) renameSync(from, join(dir, name));
    }
  }

  /** Deletes this tool's files from `dir` (for --overwrite), and nothing else that may live there. */
  static remove(dir: string): void {
    const ours = new Set<string>([...Object.values(SCORE_FILES), CHECKPOINT_FILE, ID_HASHES_FILE]);
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const base = name.replace(/\.partial$/, '').replace(/\.tmp-.*$/, '');
      if (ours.has(base) || (name.startsWith('.') && ours.has(base.slice(1)))) rmSync(join(dir, name), { force: true });
    }
  }

  async writeScore(
    rec: DocRecord,
    signals: LmSignals & TokenDistribution & TextSignals & PositionedSignals,
    embedding: Float32Array,
  ): Promise<void> {
    await this.scores.write(`${JSON.stringify({ id: rec.id, line: rec.line, ...signals })}\n`);
    await this.embeddings.append(embedding);
  }

  async writeError(rec: DocRecord | BadRecord, reason: string): Promise<void> {
    // Many-file inputs number lines across files: file_line says where in `file` the row is.
    const where = rec.fileLine === undefined ? {} : { file_line: rec.fileLine };
    await this.errors.write(`${JSON.stringify({ line: rec.line, id: rec.id, file: rec.file, ...where, reason })}\n`);
  }

  /** Flushes and fsyncs every file; returns the committed sizes for the checkpoint. */
  async sync(): Promise<{ scoresBytes: number; errorsBytes: number }> {
    await Promise.all([this.scores.sync(), this.errors.sync(), this.embeddings.sync()]);
    return { scoresBytes: this.scores.bytes, errorsBytes: this.errors.bytes };
  }

  async close(): Promise<void> {
    await Promise.all([this.scores.close(), this.errors.close(), this.embeddings.close()]);
  }
}
