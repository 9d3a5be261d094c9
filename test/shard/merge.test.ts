/**
 * Sharded scoring end to end through the library: N shards merged equal one run of the same input byte for byte
 * (scores.jsonl, errors.jsonl, embeddings.npy), for every corpus kind, with bad rows on and across shard boundaries;
 * a shard resumes, a finished shard rerun is a no-op, a changed option is refused, and downstream reads the
 * sharded directory as one.
 */
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { loadVectors, scoreRowLines } from '../../src/coverage/vectors.js';
import { InterruptedError, RunStateError, ShardsIncompleteError } from '../../src/errors.js';
import { jsonlSlice } from '../../src/io/corpus-slice.js';
import { scoreCorpus, type ScoreOptions } from '../../src/score/score-corpus.js';
import { isScoreDir, readRun, scoreRows } from '../../src/score/score-dir.js';
import { mergeShards } from '../../src/score/shards/merge.js';
import { shardStatus } from '../../src/score/shards/status.js';

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `tailguard-shard-${name}-`));
const BASE = { model: 'stories260k', device: 'cpu', chunkDocs: 4, checkpointIntervalMs: 0 } as const;
const FILES = ['scores.jsonl', 'errors.jsonl', 'embeddings.npy'] as const;

function story(i: number): string {
  const who = ['Lily', 'Tom', 'Sue', 'Ben'][i % 4]!;
  return `Once upon a time, ${who} found a ${['ball', 'kite', 'cake'][i % 3]}.${' It was fun.'.repeat(i % 5)} Story ${i}.`;
}

/** 40 rows: good ones around a run of 12 bad rows in the middle (long, so a byte boundary falls inside the run). */
function messyJsonl(): string {
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) {
    if (i >= 14 && i < 26)
      lines.push(
        i % 3 === 0 ? `{"id": "bad-${i}", "text": 7, "pad": "${'x'.repeat(300)}"}` : `{broken ${'y'.repeat(300)}`,
      );
    else if (i === 5) lines.push('');
    else lines.push(JSON.stringify({ id: `doc-${i % 30}`, text: story(i) }));
  }
  return `${lines.join('\n')}\n`;
}

async function singleAndSharded(
  input: string,
  n: number,
  extra: Partial<ScoreOptions> = {},
): Promise<{ single: string; sharded: string; merged: string }> {
  const dir = tmp('run');
  const single = join(dir, 'single');
  const sharded = join(dir, 'sharded');
  const merged = join(dir, 'merged');
  await scoreCorpus({ ...BASE, ...extra, input, out: single });
  for (let i = 0; i < n; i++) {
    const s = await scoreCorpus({ ...BASE, ...extra, input, out: sharded, shard: { index: i, count: n } });
    expect(s.shard).toMatchObject({ index: i, count: n });
  }
  await mergeShards({ dir: sharded, out: merged, format: extra.format });
  return { single, sharded, merged };
}

function expectSameFiles(a: string, b: string, files: readonly string[] = FILES): void {
  for (const f of files) expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f))), f).toBe(true);
}

describe('sharded scoring', () => {
  it('JSONL: 4 shards merged equal one run byte for byte, a boundary inside a run of bad rows', async () => {
    const dir = tmp('jsonl');
    const input = join(dir, 'messy.jsonl');
    writeFileSync(input, messyJsonl());
    // The premise: some shard starts on a bad row that follows a bad row (bad rows are lines 15..26).
    const starts = await Promise.all(
      [1, 2, 3].map(async (i) => (await jsonlSlice(input, { index: i, count: 4, align: BASE.chunkDocs })).from + 1),
    );
    expect(
      starts.some((line) => line > 15 && line <= 26),
      `shards start at lines ${starts.join(', ')}`,
    ).toBe(true);

    const { single, sharded, merged } = await singleAndSharded(input, 4, { idField: 'id', format: 'parquet' });
    expectSameFiles(single, merged, [...FILES, 'scores.parquet']);
    const run = readRun(merged);
    expect(run.counts).toEqual(readRun(single).counts);
    expect(run.merged).toEqual({ shards: 4 });
    // coverage and weights read the sharded directory as the single run: same ids, same rows, same corpus lines.
    const one = loadVectors(single);
    const many = loadVectors(sharded);
    expect(many.ids).toEqual(one.ids);
    expect(many.data).toEqual(one.data);
    const rows = [0, 5, one.ids.length - 1];
    expect(scoreRowLines(sharded, rows)).toEqual(scoreRowLines(single, rows));
    // Every shard is an ordinary score directory with global line numbers and a completion marker.
    const status = shardStatus(sharded);
    expect(status).toMatchObject({
      shards: 4,
      done: [0, 1, 2, 3],
      started: [],
      missing: [],
      complete: true,
      rerunArray: '',
    });
  });

  it('.gz JSONL, Parquet row groups and a .txt directory: merged equals one run', async () => {
    const dir = tmp('kinds');
    const gz = join(dir, 'c.jsonl.gz');
    writeFileSync(gz, gzipSync(messyJsonl()));
    const pq = join(dir, 'c.parquet');
    const texts = Array.from({ length: 22 }, (_, i) => (i % 7 === 4 ? null : story(i)));
    writeFileSync(
      pq,
      new Uint8Array(
        parquetWriteBuffer({ columnData: [{ name: 'text', data: texts, type: 'STRING' }], rowGroupSize: 3 }),
      ),
    );
    const txt = join(dir, 'txt');
    mkdirSync(join(txt, 'a'), { recursive: true });
    for (let i = 0; i < 9; i++) writeFileSync(join(txt, i % 2 ? `a/${i}.txt` : `${i}.txt`), i === 3 ? '' : story(i));
    for (const [input, n] of [
      [gz, 3],
      [pq, 4],
      [txt, 4],
    ] as const) {
      const { single, merged } = await singleAndSharded(input, n);
      expectSameFiles(single, merged);
    }
  });

  it('more shards than rows: empty shards merge to nothing', async () => {
    const dir = tmp('tiny');
    const input = join(dir, 'two.jsonl');
    writeFileSync(input, `${JSON.stringify({ text: story(1) })}\n${JSON.stringify({ text: story(2) })}\n`);
    const { single, merged } = await singleAndSharded(input, 5);
    expectSameFiles(single, merged);
  });

  it('resumes an interrupted shard, makes a finished shard a no-op, refuses other settings, reads as one directory', async () => {
    const dir = tmp('life');
    const input = join(dir, 'in.jsonl');
    writeFileSync(
      input,
      messyJsonl() + Array.from({ length: 120 }, (_, i) => JSON.stringify({ text: story(i) })).join('\n'),
    );
    const out = join(dir, 'sharded');
    const single = join(dir, 'single');
    await scoreCorpus({ ...BASE, input, out: single });

    await scoreCorpus({ ...BASE, input, out, shard: { index: 0, count: 3 } });
    // Shard 1 stopped after its first chunk: a checkpoint and no marker.
    const stop = new AbortController();
    await expect(
      scoreCorpus({
        ...BASE,
        input,
        out,
        shard: { index: 1, count: 3 },
        signal: stop.signal,
        onProgress: () => stop.abort(),
      }),
    ).rejects.toThrow(InterruptedError);
    expect(shardStatus(out)).toMatchObject({
      done: [0],
      started: [1],
      missing: [2],
      rerunArray: '1-2',
      rerunIndexes: '1,2',
      complete: false,
    });
    expect(isScoreDir(out)).toBe(true);
    expect(() => readRun(out)).toThrow(ShardsIncompleteError);
    await expect(mergeShards({ dir: out, out: join(dir, 'm') })).rejects.toThrow(/shards 1, 2 of 3 are not done/);

    // Other options or another shard count in the same directory are refused, naming what differs.
    await expect(scoreCorpus({ ...BASE, chunkDocs: 8, input, out, shard: { index: 2, count: 3 } })).rejects.toThrow(
      /chunk_docs: shards have 4, this one 8/,
    );
    await expect(scoreCorpus({ ...BASE, input, out, shard: { index: 2, count: 4 } })).rejects.toThrow(RunStateError);

    const resumed = await scoreCorpus({ ...BASE, input, out, shard: { index: 1, count: 3 } });
    expect(resumed.attempts).toBe(2);
    await scoreCorpus({ ...BASE, input, out, shard: { index: 2, count: 3 } });
    // A finished shard run again does nothing.
    const marker = join(out, 'shard-00000-of-00003', 'shard-done.json');
    const before = statSync(join(out, 'shard-00000-of-00003', 'scores.jsonl')).mtimeMs;
    const again = await scoreCorpus({ ...BASE, input, out, shard: { index: 0, count: 3 } });
    expect(again.shard?.index).toBe(0);
    expect(statSync(join(out, 'shard-00000-of-00003', 'scores.jsonl')).mtimeMs).toBe(before);
    expect(JSON.parse(readFileSync(marker, 'utf8'))).toMatchObject({ shard: 0, of: 3 });

    await mergeShards({ dir: out, out: join(dir, 'merged') });
    expectSameFiles(single, join(dir, 'merged'));
    // Downstream reads the sharded directory as one: its rows in order, with embeddings, and a combined run.json.
    const rows: string[] = [];
    for await (const r of scoreRows(out, { embeddings: true })) rows.push(`${r.line}:${r.id}:${r.embedding!.length}`);
    const singleRows: string[] = [];
    for await (const r of scoreRows(single, { embeddings: true }))
      singleRows.push(`${r.line}:${r.id}:${r.embedding!.length}`);
    expect(rows).toEqual(singleRows);
    expect(readRun(out).counts).toEqual(readRun(single).counts);
  });
});
