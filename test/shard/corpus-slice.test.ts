/** Slices of every corpus kind, read one after another, are the whole corpus: each row once, same line numbers. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { openCorpus } from '../../src/io/open-corpus.js';
import type { InputRecord } from '../../src/io/records.js';
import { collect, tempDir } from '../io/helpers.js';

const dir = tempDir('tailguard-slice-');
let files = 0;

/** What a record says about its row, without `index` (which counts from the slice start). */
const view = (r: InputRecord) =>
  r.kind === 'doc'
    ? { kind: r.kind, line: r.line, id: r.id, text: r.text }
    : { kind: r.kind, line: r.line, id: r.id, reason: r.reason };

async function slicesEqualWhole(path: string, n: number, opts: { idField?: string } = {}, align = 1): Promise<void> {
  const whole = (await collect(openCorpus(path, opts))).map(view);
  const parts: ReturnType<typeof view>[] = [];
  const block = (r: { line: number }) => Math.floor((r.line - 1) / align);
  for (let i = 0; i < n; i++) {
    const part = (await collect(openCorpus(path, { ...opts, slice: { index: i, count: n, align } }))).map(view);
    // A block of `align` lines is never split between two slices.
    if (parts.length > 0 && part.length > 0) expect(block(part[0]!)).toBeGreaterThan(block(parts.at(-1)!));
    parts.push(...part);
  }
  expect(parts).toEqual(whole);
}

/** A JSONL line: a good row, a bad one, a blank, or a CRLF-ended row. */
const lineArb = fc.oneof(
  fc.string({ maxLength: 30 }).map((t) => JSON.stringify({ id: t.slice(0, 3), text: `doc ${t}` })),
  fc.constantFrom('{"text": 3}', '{broken', '   ', '', '{"text": "crlf"}\r', '[1]'),
);

describe('corpus slices', () => {
  it('JSONL (plain, .gz): slices concatenated are the whole file, for any lines and slice count', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(lineArb, { maxLength: 40 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 5 }),
        async (lines, trailingNewline, n, gz, align) => {
          const body = Buffer.from(`\ufeff${lines.join('\n')}${trailingNewline ? '\n' : ''}`);
          const path = join(dir, `c${files++}.jsonl${gz ? '.gz' : ''}`);
          writeFileSync(path, gz ? gzipSync(body) : body);
          await slicesEqualWhole(path, n, {}, align);
          await slicesEqualWhole(path, n, { idField: 'id' }, align);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('JSONL resume inside a slice: startIndex counts from the slice start', async () => {
    const path = join(dir, 'resume.jsonl');
    writeFileSync(path, Array.from({ length: 30 }, (_, i) => JSON.stringify({ text: `row ${i}` })).join('\n'));
    const slice = { index: 1, count: 3 };
    const all = await collect(openCorpus(path, { slice }));
    const rest = await collect(openCorpus(path, { slice, startIndex: 4 }));
    expect(rest.map(view)).toEqual(all.slice(4).map(view));
    expect(all[0]!.line).toBeGreaterThan(1);
  });

  it('Parquet: slices of rows, aligned or not, concatenate to the whole file', async () => {
    const texts = Array.from({ length: 23 }, (_, i) => (i % 5 === 3 ? null : `text ${i}`));
    const path = join(dir, 'rows.parquet');
    const buf = parquetWriteBuffer({ columnData: [{ name: 'text', data: texts, type: 'STRING' }], rowGroupSize: 4 });
    writeFileSync(path, new Uint8Array(buf));
    for (const n of [1, 2, 3, 4, 6, 7, 10]) for (const align of [1, 3, 5]) await slicesEqualWhole(path, n, {}, align);
  });

  it('a directory of .txt files: split by file', async () => {
    const root = join(dir, 'txt');
    mkdirSync(join(root, 'sub'), { recursive: true });
    for (let i = 0; i < 11; i++)
      writeFileSync(join(root, i % 3 ? `f${i}.txt` : `sub/f${i}.txt`), i === 4 ? '' : `file ${i}`);
    for (const n of [1, 2, 3, 5, 11, 13]) for (const align of [1, 2, 4]) await slicesEqualWhole(root, n, {}, align);
  });

  it('refuses a bad slice and stdin', async () => {
    const path = join(dir, 'one.jsonl');
    writeFileSync(path, '{"text": "a"}\n');
    await expect(collect(openCorpus(path, { slice: { index: 2, count: 2 } }))).rejects.toThrow(
      /`shard` index must be in 0..1/,
    );
    await expect(collect(openCorpus('-', { slice: { index: 0, count: 2 } }))).rejects.toThrow(/stdin/);
  });
});
