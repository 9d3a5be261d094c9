/**
 * Many-file inputs through `score`: 4 shards (whole files each) merged equal one run byte for byte; a killed run
 * resumes to the same bytes; a changed file list is refused (resume and shard manifest); errors name the file and
 * the line within it; the CLI takes a quoted glob and an @list.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { InterruptedError, RunStateError } from '../../src/errors.js';
import { fileSizes } from '../../src/io/read-files.js';
import { fileSplit, listCorpusFiles } from '../../src/io/corpus-files.js';
import { scoredDocs } from '../../src/detect/scored-input.js';
import { openCorpus } from '../../src/io/open-corpus.js';
import { scoreCorpus } from '../../src/score/score-corpus.js';
import { readRun } from '../../src/score/score-dir.js';
import { mergeShards } from '../../src/score/shards/merge.js';
import { runCli } from '../helpers/cli.js';

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `tailguard-files-${name}-`));
const BASE = { model: 'stories260k', device: 'cpu', chunkDocs: 4, checkpointIntervalMs: 0 } as const;
const FILES = ['scores.jsonl', 'errors.jsonl', 'embeddings.npy'] as const;

function story(i: number): string {
  const who = ['Lily', 'Tom', 'Sue', 'Ben'][i % 4]!;
  return `Once upon a time, ${who} found a ${['ball', 'kite', 'cake'][i % 3]}.${' It was fun.'.repeat(i % 5)} Story ${i}.`;
}

const jsonl = (from: number, n: number, bad: (i: number) => string | undefined = () => undefined): string =>
  Array.from({ length: n }, (_, k) => bad(from + k) ?? JSON.stringify({ text: story(from + k) })).join('\n') + '\n';

/** Six files of 0..13 rows: blank lines, bad rows, an empty file, gzip, Parquet row groups, no id field. */
function corpusDir(): string {
  const dir = join(tmp('corpus'), 'data');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(
    join(dir, '00.jsonl'),
    jsonl(0, 7, (i) => (i === 3 ? '' : i === 5 ? '{broken' : undefined)),
  );
  writeFileSync(join(dir, '01.jsonl.gz'), gzipSync(jsonl(10, 9, (i) => (i === 12 ? '{"text": 7}' : undefined))));
  writeFileSync(join(dir, '02.jsonl'), '');
  const texts = Array.from({ length: 13 }, (_, i) => (i === 6 ? null : story(30 + i)));
  writeFileSync(
    join(dir, '03.parquet'),
    new Uint8Array(
      parquetWriteBuffer({ columnData: [{ name: 'text', data: texts, type: 'STRING' }], rowGroupSize: 5 }),
    ),
  );
  writeFileSync(join(dir, 'sub', '04.ndjson'), jsonl(50, 5).trimEnd());
  writeFileSync(join(dir, 'sub', '05.jsonl'), jsonl(60, 11));
  return dir;
}

function expectSameFiles(a: string, b: string, files: readonly string[] = FILES): void {
  for (const f of files) expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f))), f).toBe(true);
}

describe('many-file inputs', () => {
  it('4 shards by file merged equal one run byte for byte (rows, errors, embeddings, Parquet)', async () => {
    const input = corpusDir();
    const files = (await listCorpusFiles(input))!;
    expect(files.map((f) => f.slice(input.length + 1))).toEqual([
      '00.jsonl',
      '01.jsonl.gz',
      '02.jsonl',
      '03.parquet',
      'sub/04.ndjson',
      'sub/05.jsonl',
    ]);
    // The premise: every shard gets files, and no shard gets all.
    const sizes = await fileSizes(files);
    const split = [0, 1, 2, 3].map((index) => fileSplit(sizes, { index, count: 4 }));
    expect(split.filter((s) => s.to > s.from).length).toBeGreaterThanOrEqual(3);

    const out = tmp('run');
    const single = join(out, 'single');
    const sharded = join(out, 'sharded');
    const merged = join(out, 'merged');
    const one = await scoreCorpus({ ...BASE, input, out: single, format: 'parquet' });
    // Lines run on across files: 7 + 9 + 0 + 13 + 5 + 11 = 45 lines, one blank: 44 rows, 3 bad.
    expect(one.counts).toEqual({ input_rows: 44, scored: 41, errors: 3 });
    const rows = readFileSync(join(single, 'scores.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // Files at lines 1-7, 8-16, none, 17-29, 30-34, 35-45; line 4 is blank, 6, 10 and 23 are bad.
    const want = Array.from({ length: 45 }, (_, i) => i + 1).filter((l) => ![4, 6, 10, 23].includes(l));
    expect(rows.map((r) => r.line)).toEqual(want);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    // Downstream joins rows to the corpus by line (detect's fields, compare's texts): each row gets its own text.
    const storyAt = (l: number) =>
      story(l <= 7 ? l - 1 : l <= 16 ? 10 + l - 8 : l <= 29 ? 30 + l - 17 : l <= 34 ? 50 + l - 30 : 60 + l - 35);
    const byLine = new Map<number, string>();
    for await (const rec of openCorpus(one.input)) if (rec.kind === 'doc') byLine.set(rec.line, rec.text);
    expect(rows.map((r) => `${r.line}:${byLine.get(r.line)}`)).toEqual(want.map((l) => `${l}:${storyAt(l)}`));
    // detect's join (scoredDocs: score rows to corpus rows by line, ids checked) goes through every row.
    let joined = 0;
    for await (const d of scoredDocs({ run: one, scoresDir: single, errors: one.counts.errors }, ['text'])) {
      expect(d.row.line).toBe(want[joined]);
      joined++;
    }
    expect(joined).toBe(want.length);
    const errors = readFileSync(join(single, 'errors.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(errors.map((e) => [e.line, e.file.slice(input.length + 1), e.file_line])).toEqual([
      [6, '00.jsonl', 6],
      [10, '01.jsonl.gz', 3],
      [23, '03.parquet', 7],
    ]);

    for (let i = 0; i < 4; i++) await scoreCorpus({ ...BASE, input, out: sharded, shard: { index: i, count: 4 } });
    await mergeShards({ dir: sharded, out: merged, format: 'parquet' });
    expectSameFiles(single, merged, [...FILES, 'scores.parquet']);
    expect(readRun(merged).counts).toEqual(one.counts);
    // Each shard holds whole files: its rows are exactly the rows of its files.
    for (let i = 0; i < 4; i++) {
      const { from, to } = split[i]!;
      const own = new Set(files.slice(from, to));
      const shardErrors = readFileSync(join(sharded, `shard-0000${i}-of-00004`, 'errors.jsonl'), 'utf8');
      for (const line of shardErrors.trim().split('\n').filter(Boolean))
        expect(own.has(JSON.parse(line).file)).toBe(true);
    }
  });

  it('a killed run resumes to the same bytes; a changed file list is refused', async () => {
    const input = corpusDir();
    const out = tmp('resume');
    const whole = join(out, 'whole');
    await scoreCorpus({ ...BASE, input, out: whole });
    const stop = new AbortController();
    let chunks = 0;
    const run = join(out, 'run');
    await expect(
      scoreCorpus({
        ...BASE,
        input,
        out: run,
        signal: stop.signal,
        onProgress: () => {
          // Stop inside the third file's neighbourhood, not at the first chunk.
          if (++chunks === 5) stop.abort();
        },
      }),
    ).rejects.toThrow(InterruptedError);
    const resumed = await scoreCorpus({ ...BASE, input, out: run });
    expect(resumed.attempts).toBe(2);
    expectSameFiles(whole, run);

    // Another file in the directory changes the rows: a resume and a new shard are refused.
    const sharded = join(out, 'sharded');
    await scoreCorpus({ ...BASE, input, out: sharded, shard: { index: 0, count: 2 } });
    const stop2 = new AbortController();
    const partial = join(out, 'partial');
    await expect(
      scoreCorpus({ ...BASE, input, out: partial, signal: stop2.signal, onProgress: () => stop2.abort() }),
    ).rejects.toThrow(InterruptedError);
    writeFileSync(join(input, '06.jsonl'), jsonl(80, 2));
    await expect(scoreCorpus({ ...BASE, input, out: partial })).rejects.toThrow(/input_files/);
    await expect(scoreCorpus({ ...BASE, input, out: sharded, shard: { index: 1, count: 2 } })).rejects.toThrow(
      RunStateError,
    );
  });

  it('the CLI scores a quoted glob and an @list; run.json records them', () => {
    const input = corpusDir();
    const out = tmp('cli');
    const list = join(out, 'list.txt');
    writeFileSync(list, `# two files\n${join(input, '00.jsonl')}\n${join(input, 'sub/04.ndjson')}\n`);
    const viaList = runCli([
      'score',
      `@${list}`,
      '--out',
      join(out, 'l'),
      '--model',
      'stories260k',
      '--device',
      'cpu',
      '--quiet',
    ]);
    // Exit 1: 00.jsonl has a bad row.
    expect(viaList.status, viaList.stderr).toBe(1);
    const runList = JSON.parse(readFileSync(join(out, 'l', 'run.json'), 'utf8'));
    expect(runList.input).toBe(`@${list}`);
    expect(runList.counts).toEqual({ input_rows: 11, scored: 10, errors: 1 });
    const lines = readFileSync(join(out, 'l', 'scores.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(JSON.parse(lines.at(-1)!).line).toBe(12);

    const glob = `${input}/sub/*.*`;
    const viaGlob = runCli([
      'score',
      glob,
      '--out',
      join(out, 'g'),
      '--model',
      'stories260k',
      '--device',
      'cpu',
      '--quiet',
    ]);
    expect(viaGlob.status, viaGlob.stderr).toBe(0);
    const runGlob = JSON.parse(readFileSync(join(out, 'g', 'run.json'), 'utf8'));
    expect(runGlob.input).toBe(glob);
    expect(runGlob.counts).toEqual({ input_rows: 16, scored: 16, errors: 0 });

    const none = runCli([
      'score',
      `${input}/*.none`,
      '--out',
      join(out, 'n'),
      '--model',
      'stories260k',
      '--device',
      'cpu',
    ]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/matches no file/);
  });
});
