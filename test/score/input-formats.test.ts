/** Whatever the container, the same documents give the same scores; oversize documents are reported, not lost. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { jsonlToParquet } from '../../src/io/parquet-from-jsonl.js';
import { scoreCorpus } from '../../src/score/score-corpus.js';

const DOCS = [
  { id: 'a', text: 'Once upon a time, there was a little girl named Lily.' },
  { id: 'b', text: 'Tom had a big red ball. He liked to throw it high in the sky.' },
  { id: 'c', text: 'The end.' },
];

const metrics = (out: string) =>
  readFileSync(join(out, 'scores.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { id: _id, line: _line, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return rest;
    });

describe('input formats', () => {
  it('JSONL, gzip JSONL, Parquet and a .txt directory score identically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-formats-'));
    const jsonl = DOCS.map((d) => JSON.stringify(d)).join('\n') + '\n';
    writeFileSync(join(dir, 'c.jsonl'), jsonl);
    writeFileSync(join(dir, 'c.jsonl.gz'), gzipSync(jsonl));
    await jsonlToParquet(join(dir, 'c.jsonl'), join(dir, 'c.parquet'));
    mkdirSync(join(dir, 'txt'));
    DOCS.forEach((d) => writeFileSync(join(dir, 'txt', `${d.id}.txt`), d.text));

    const runs: Record<string, Record<string, unknown>[]> = {};
    for (const input of ['c.jsonl', 'c.jsonl.gz', 'c.parquet', 'txt']) {
      const out = join(dir, `out-${input}`);
      const s = await scoreCorpus({ input: join(dir, input), out, idField: 'id', model: 'stories260k', device: 'cpu' });
      expect(s.counts).toEqual({ input_rows: 3, scored: 3, errors: 0 });
      runs[input] = metrics(out);
    }
    expect(runs['c.jsonl.gz']).toEqual(runs['c.jsonl']);
    expect(runs['c.parquet']).toEqual(runs['c.jsonl']);
    expect(runs.txt).toEqual(runs['c.jsonl']);
    const ids = readFileSync(join(dir, 'out-txt', 'scores.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    expect(ids).toEqual(['a.txt', 'b.txt', 'c.txt']);
  });

  it('reports a 10 MB document over --max-doc-bytes with a clear reason and scores the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-big-'));
    const big = 'The quick brown fox jumps over the lazy dog. '.repeat(Math.ceil(10e6 / 45)).slice(0, 10e6);
    writeFileSync(
      join(dir, 'in.jsonl'),
      [DOCS[0], { id: 'big', text: big }, DOCS[1]].map((d) => JSON.stringify(d)).join('\n') + '\n',
    );
    const out = join(dir, 'out');
    const s = await scoreCorpus({
      input: join(dir, 'in.jsonl'),
      out,
      idField: 'id',
      model: 'stories260k',
      device: 'cpu',
      maxDocBytes: 1_000_000,
    });
    expect(s.counts).toEqual({ input_rows: 3, scored: 2, errors: 1 });
    const err = JSON.parse(readFileSync(join(out, 'errors.jsonl'), 'utf8'));
    expect(err.line).toBe(2);
    expect(err.reason).toMatch(/1000000|1,000,000|exceeds/);
  });
});
