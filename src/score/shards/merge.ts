/**
 * `mergeShards`: the shards of a sharded score directory as one ordinary score directory. Streamed with flat memory:
 * scores.jsonl and errors.jsonl are the shards' files byte for byte one after another, embeddings.npy one header for
 * all rows and then each shard's rows, so the result equals a single-process run of the same input byte for byte
 * (run.json aside, which records the merge). Refuses, naming them, while any shard is not done.
 */
import { createReadStream, existsSync, mkdirSync, promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { RunStateError, TailguardError, UsageError } from '../../errors.js';
import { tempPathFor, writeFileAtomic } from '../../io/atomic.js';
import { npyHeader, parseNpyHeader } from '../../io/npy-writer.js';
import { jsonlToParquet } from '../../io/parquet-from-jsonl.js';
import { mergedRun } from '../merged-run.js';
import type { RunSummary } from '../score-corpus.js';
import { readRun, SCORE_FILES, scoreDirParts } from '../score-dir.js';
import { isShardedDir } from './layout.js';

export interface MergeOptions {
  /** The sharded score directory (the `out` of the sharded `score` runs). */
  dir: string;
  /** Where to write the merged score directory. */
  out: string;
  /** Also write scores.parquet. */
  format?: 'jsonl' | 'parquet';
  /** Replace a score directory already in `out`. */
  overwrite?: boolean;
}

/** Writes `path` from `parts` (each a file and the byte it starts at), through a temp file renamed into place. */
async function concatFiles(path: string, parts: { file: string; from: number }[], head?: Uint8Array): Promise<void> {
  const tmp = tempPathFor(path);
  const out = await fsp.open(tmp, 'w');
  try {
    if (head) await out.write(head);
    for (const { file, from } of parts) {
      for await (const chunk of createReadStream(file, { start: from, highWaterMark: 1 << 20 }))
        await out.write(chunk as Buffer);
    }
    await out.sync();
  } catch (err) {
    await out.close();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await out.close();
  await fsp.rename(tmp, path);
}

async function npyShape(path: string): Promise<{ rows: number; dim: number; dataOffset: number }> {
  const handle = await fsp.open(path, 'r');
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const { shape, dataOffset } = parseNpyHeader(head.subarray(0, bytesRead), path);
    const { size } = await handle.stat();
    if (size !== dataOffset + shape[0] * shape[1] * 4)
      throw new TailguardError(`${path}: ${size} bytes, and its header says ${shape[0]}×${shape[1]} float32`);
    return { rows: shape[0], dim: shape[1], dataOffset };
  } finally {
    await handle.close();
  }
}

export async function mergeShards(opts: MergeOptions): Promise<RunSummary> {
  const dir = resolve(opts.dir);
  const out = resolve(opts.out);
  if (!isShardedDir(dir))
    throw new UsageError(
      `${dir} is not a sharded score directory (no shards.json): merge reads the \`out\` of \`score\` runs with \`shard\``,
    );
  if (out === dir || out.startsWith(`${dir}/shard-`))
    throw new UsageError('`out` of a merge must be outside the sharded directory');
  const parts = scoreDirParts(dir);
  const runs = parts.map(readRun);
  const summary = mergedRun(runs, out);
  mkdirSync(out, { recursive: true });
  if (!opts.overwrite && existsSync(join(out, SCORE_FILES.run)))
    throw new RunStateError(out, 'already holds a score directory (run.json); pass `overwrite` to replace it');

  // Embeddings first: their headers say how many rows each shard has, checked against its counts.
  const shapes = await Promise.all(parts.map((p) => npyShape(join(p, SCORE_FILES.embeddings))));
  shapes.forEach((s, i) => {
    if (s.rows !== runs[i]!.counts.scored)
      throw new TailguardError(
        `${parts[i]}: ${SCORE_FILES.embeddings} has ${s.rows} rows, run.json says ${runs[i]!.counts.scored} scored`,
      );
    if (s.dim !== shapes[0]!.dim)
      throw new TailguardError(`${parts[i]}: embeddings are ${s.dim}-d, shard 0's ${shapes[0]!.dim}-d`);
  });
  const rows = shapes.reduce((a, s) => a + s.rows, 0);
  const dim = shapes[0]?.dim ?? summary.model.hidden_size;
  await concatFiles(
    join(out, SCORE_FILES.embeddings),
    parts.map((p, i) => ({ file: join(p, SCORE_FILES.embeddings), from: shapes[i]!.dataOffset })),
    npyHeader(rows, dim),
  );
  await concatFiles(
    join(out, SCORE_FILES.scores),
    parts.map((p) => ({ file: join(p, SCORE_FILES.scores), from: 0 })),
  );
  await concatFiles(
    join(out, SCORE_FILES.errors),
    parts.map((p) => ({ file: join(p, SCORE_FILES.errors), from: 0 })),
  );
  const outputs: Record<string, string> = {
    scores: SCORE_FILES.scores,
    errors: SCORE_FILES.errors,
    embeddings: SCORE_FILES.embeddings,
  };
  if (opts.format === 'parquet') {
    await jsonlToParquet(join(out, SCORE_FILES.scores), join(out, SCORE_FILES.parquet), {
      integerFields: ['line', 'tokens'],
    });
    outputs.parquet = SCORE_FILES.parquet;
  } else {
    await fsp.rm(join(out, SCORE_FILES.parquet), { force: true });
  }
  const merged: RunSummary = {
    ...summary,
    options: { ...summary.options, format: opts.format ?? 'jsonl' },
    outputs,
    merged: { shards: parts.length },
  };
  await writeFileAtomic(join(out, SCORE_FILES.run), `${JSON.stringify(merged, null, 2)}\n`);
  return merged;
}
