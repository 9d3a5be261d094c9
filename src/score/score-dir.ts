/**
 * The score-directory format: what `score` writes and every other command reads. The one module that knows its file
 * names, reads its run.json, and streams its rows back in order — row i of scores.jsonl is row i of embeddings.npy —
 * with flat memory (a JSONL line at a time, embeddings a block of rows at a time).
 *
 * A sharded directory (shard/layout.ts: shards.json and one score directory per shard) reads as one score
 * directory once every shard is done: its run.json is the shards' combined (merged-run.ts), its rows are the
 * shards' rows in shard order, which is input order. Before that, reading it throws ShardsIncompleteError.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ShardsIncompleteError, TailguardError, UsageError } from '../errors.js';
import { isShardedDir, shardEntries } from './shards/layout.js';
import { mergedRun } from './merged-run.js';
import { NpyRowReader } from '../io/npy-writer.js';
import type { LmSignals } from '../signals/lm-signals.js';
import type { TextSignals } from '../signals/text-signals.js';
import type { TokenDistribution } from '../signals/token-distribution.js';
import type { RunSummary } from './score-corpus.js';

export const SCORE_FILES = {
  scores: 'scores.jsonl',
  errors: 'errors.jsonl',
  embeddings: 'embeddings.npy',
  parquet: 'scores.parquet',
  run: 'run.json',
} as const;

/** One row of scores.jsonl (and, when read with embeddings, its row of embeddings.npy). */
export type ScoreRow = { id: string; line: number; embedding?: Float32Array } & LmSignals &
  Partial<TokenDistribution> &
  TextSignals &
  Record<string, unknown>;

export function isScoreDir(path: string): boolean {
  return (existsSync(join(path, SCORE_FILES.run)) && existsSync(join(path, SCORE_FILES.scores))) || isShardedDir(path);
}

/** The score directories of `dir` in input order: its shards when it is sharded (all done, or it throws), else itself. */
export function scoreDirParts(dir: string): string[] {
  if (!isShardedDir(dir) || existsSync(join(dir, SCORE_FILES.run))) return [dir];
  const { manifest, shards } = shardEntries(dir);
  const notDone = shards.filter((s) => s.state !== 'done').map((s) => s.index);
  if (notDone.length > 0) throw new ShardsIncompleteError(dir, notDone, manifest.shards);
  return shards.map((s) => s.dir);
}

export function readRun(dir: string): RunSummary {
  const parts = scoreDirParts(dir);
  return parts.length === 1 && parts[0] === dir ? readOneRun(dir) : mergedRun(parts.map(readOneRun), dir);
}

function readOneRun(dir: string): RunSummary {
  try {
    return JSON.parse(readFileSync(join(dir, SCORE_FILES.run), 'utf8')) as RunSummary;
  } catch (err) {
    throw new TailguardError(`${join(dir, SCORE_FILES.run)} is unreadable (${(err as Error).message})`);
  }
}

/** The text and id fields a score run read its corpus with, as openCorpus options (so the corpus can be read again). */
export function corpusFields(run: RunSummary): { textField?: string; idField?: string } {
  const { text_field: textField, id_field: idField } = run.options;
  return {
    textField: typeof textField === 'string' ? textField : undefined,
    idField: typeof idField === 'string' ? idField : undefined,
  };
}

async function* jsonLines<T>(path: string): AsyncGenerator<T> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim()) yield JSON.parse(line) as T;
}

/** The score rows of `dir` in order; with `embeddings`, each carrying its row of embeddings.npy. */
export async function* scoreRows(dir: string, opts: { embeddings?: boolean } = {}): AsyncGenerator<ScoreRow> {
  const parts = scoreDirParts(dir);
  if (parts.length === 1 && parts[0] === dir) {
    yield* oneDirRows(dir, opts);
    return;
  }
  for (const part of parts) yield* oneDirRows(part, opts);
}

async function* oneDirRows(dir: string, opts: { embeddings?: boolean }): AsyncGenerator<ScoreRow> {
  const rows = jsonLines<ScoreRow>(join(dir, SCORE_FILES.scores));
  if (!opts.embeddings) {
    yield* rows;
    return;
  }
  const path = join(dir, SCORE_FILES.embeddings);
  if (!existsSync(path)) {
    throw new UsageError(
      `${dir} has no ${SCORE_FILES.embeddings}, and the detector reads document embeddings: score the corpus again with this tailguard`,
    );
  }
  const npy = NpyRowReader.open(path);
  try {
    let n = 0;
    for await (const row of rows) {
      const e = npy.read();
      if (!e)
        throw new TailguardError(
          `${path} has ${npy.rows} rows, ${SCORE_FILES.scores} more: the directory is inconsistent`,
        );
      n++;
      row.embedding = e;
      yield row;
    }
    if (n !== npy.rows)
      throw new TailguardError(
        `${path} has ${npy.rows} rows, ${SCORE_FILES.scores} ${n}: the directory is inconsistent`,
      );
  } finally {
    npy.close();
  }
}
