/**
 * Many-file inputs: which files a directory, a glob or an @list names (and in which order), the byte-balanced split
 * by file, and the reader that numbers lines on across files (checked against a hand-made concatenation).
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { CorpusOpenError } from '../../src/errors.js';
import {
  countFileLines,
  fileSplit,
  inputExists,
  listCorpusFiles,
  resolveInputName,
} from '../../src/io/corpus-files.js';
import { expandGlob } from '../../src/io/glob.js';
import { detectCorpusFormat, openCorpus } from '../../src/io/open-corpus.js';
import { readFiles } from '../../src/io/read-files.js';
import type { InputRecord } from '../../src/io/records.js';
import { collect, tempDir } from './helpers.js';

const root = tempDir('tailguard-files-');
const put = (rel: string, data: string | Uint8Array): string => {
  const p = join(root, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, data);
  return p;
};
const parquet = (texts: (string | null)[]) =>
  new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'text', data: texts, type: 'STRING' }], rowGroupSize: 2 }));

describe('glob', () => {
  it('expands *, ** and classes, sorted, skipping dot names', async () => {
    put('g/b.jsonl', '');
    put('g/a.jsonl', '');
    put('g/.hidden.jsonl', '');
    put('g/sub/c.jsonl', '');
    put('g/sub/deep/d.jsonl', '');
    put('g/x.parquet', '');
    expect(await expandGlob(`${root}/g/*.jsonl`)).toEqual([`${root}/g/a.jsonl`, `${root}/g/b.jsonl`]);
    expect(await expandGlob(`${root}/g/**/*.jsonl`)).toEqual(
      ['a.jsonl', 'b.jsonl', 'sub/c.jsonl', 'sub/deep/d.jsonl'].map((f) => `${root}/g/${f}`),
    );
    expect(await expandGlob(`${root}/g/*/c.jsonl`)).toEqual([`${root}/g/sub/c.jsonl`]);
    expect(await expandGlob(`${root}/g/[ax]*`)).toEqual([`${root}/g/a.jsonl`, `${root}/g/x.parquet`]);
    expect(await expandGlob(`${root}/g/.h*`)).toEqual([`${root}/g/.hidden.jsonl`]);
    expect(await expandGlob(`${root}/nowhere/*.jsonl`)).toEqual([]);
  });
});

describe('listCorpusFiles', () => {
  it('a directory of data files: sorted relative paths, .json left out; .txt directories stay text', async () => {
    put('d/2.jsonl', '{"text":"x"}\n');
    put('d/10.parquet', parquet(['y']));
    put('d/sub/1.ndjson.gz', gzipSync('{"text":"z"}\n'));
    put('d/dataset_info.json', '{}');
    put('d/README.md', '#');
    expect(await listCorpusFiles(join(root, 'd'))).toEqual(
      ['10.parquet', '2.jsonl', 'sub/1.ndjson.gz'].map((f) => join(root, 'd', f)),
    );
    put('t/a.txt', 'text');
    put('t/meta.json', '{}');
    expect(await listCorpusFiles(join(root, 't'))).toBeNull();
    expect(await detectCorpusFormat(join(root, 't'))).toEqual({ kind: 'textdir' });
    put('mixed/a.txt', 'text');
    put('mixed/b.jsonl', '{"text":"x"}\n');
    await expect(listCorpusFiles(join(root, 'mixed'))).rejects.toThrow(/both \.txt files \(1\) and JSONL\/Parquet/);
    put('scored/scores.jsonl', '{"id":"1","line":1}\n');
    put('scored/errors.jsonl', '');
    put('scored/run.json', '{}');
    await expect(listCorpusFiles(join(root, 'scored'))).rejects.toThrow(/is a tailguard score directory/);
    put('sharded/shards.json', '{}');
    put('sharded/shard-00000-of-00001/scores.jsonl', '');
    await expect(listCorpusFiles(join(root, 'sharded'))).rejects.toThrow(/sharded tailguard score directory/);
    // One file and stdin are not many files.
    expect(await listCorpusFiles(join(root, 'd/2.jsonl'))).toBeNull();
    expect(await listCorpusFiles('-')).toBeNull();
  });

  it('a glob: refused when it matches nothing or a file of another kind', async () => {
    // README.md: the pattern names it, so it is refused rather than skipped.
    await expect(listCorpusFiles(`${root}/d/*`)).rejects.toThrow(/README\.md.*not a \.jsonl/);
    await expect(listCorpusFiles(`${root}/d/*.none`)).rejects.toThrow(/matches no file/);
    expect(await listCorpusFiles(`${root}/d/*.jsonl`)).toEqual([join(root, 'd/2.jsonl')]);
  });

  it('an @list: its order, paths relative to the list, comments skipped, repeats refused', async () => {
    const list = put(
      'lists/l.txt',
      `# shards\n../d/2.jsonl\n\n  ${join(root, 'd/10.parquet')}  \n../d/sub/1.ndjson.gz\n`,
    );
    expect(await listCorpusFiles(`@${list}`)).toEqual([
      join(root, 'lists/../d/2.jsonl'),
      join(root, 'd/10.parquet'),
      join(root, 'lists/../d/sub/1.ndjson.gz'),
    ]);
    expect(resolveInputName(`@${list}`)).toBe(`@${list}`);
    expect(inputExists(`@${list}`)).toBe(true);
    expect(inputExists(`@${list}.gone`)).toBe(false);
    const twice = put('lists/twice.txt', '../d/2.jsonl\n../d/../d/2.jsonl\n');
    await expect(listCorpusFiles(`@${twice}`)).rejects.toThrow(/line 2: .*listed twice \(also line 1\)/);
    const other = put('lists/other.txt', '../d/README.md\n');
    await expect(listCorpusFiles(`@${other}`)).rejects.toThrow(CorpusOpenError);
    await expect(listCorpusFiles(`@${root}/lists/missing.txt`)).rejects.toThrow(/cannot read the list/);
    // A file whose name starts with '@' is that file.
    const at = put('@odd.jsonl', '{"text":"x"}\n');
    expect(await listCorpusFiles(at)).toBeNull();
  });

  it('follows links to files inside a directory', async () => {
    put('links-target/x.jsonl', '{"text":"x"}\n');
    mkdirSync(join(root, 'links'));
    symlinkSync(join(root, 'links-target/x.jsonl'), join(root, 'links/y.jsonl'));
    expect(await listCorpusFiles(join(root, 'links'))).toEqual([join(root, 'links/y.jsonl')]);
  });
});

describe('fileSplit', () => {
  it('hand-checked: a file goes to the shard holding its byte midpoint', () => {
    // Weights (size+1): 10, 10, 10, 70 → total 100; midpoints 5, 15, 25, 65.
    const sizes = [9, 9, 9, 69];
    // 2 shards: ⌊2·m/100⌋ = 0, 0, 0, 1.
    expect([0, 1].map((index) => fileSplit(sizes, { index, count: 2 }))).toEqual([
      { from: 0, to: 3 },
      { from: 3, to: 4 },
    ]);
    // 4 shards: ⌊4·m/100⌋ = 0, 0, 1, 2: shard 3 is empty (after the last file).
    expect([0, 1, 2, 3].map((index) => fileSplit(sizes, { index, count: 4 }))).toEqual([
      { from: 0, to: 2 },
      { from: 2, to: 3 },
      { from: 3, to: 4 },
      { from: 4, to: 4 },
    ]);
    // Empty files still count (weight 1 each).
    expect([0, 1].map((index) => fileSplit([0, 0, 0, 0], { index, count: 2 }))).toEqual([
      { from: 0, to: 2 },
      { from: 2, to: 4 },
    ]);
    expect(fileSplit([], { index: 0, count: 3 })).toEqual({ from: 0, to: 0 });
  });

  it('slices are contiguous, in order and cover every file once', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let t = 0; t < 200; t++) {
      const sizes = Array.from({ length: Math.floor(rand() * 12) }, () => Math.floor(rand() ** 3 * 1e12));
      const count = 1 + Math.floor(rand() * 9);
      let next = 0;
      for (let index = 0; index < count; index++) {
        const { from, to } = fileSplit(sizes, { index, count });
        expect(from).toBe(next);
        expect(to).toBeGreaterThanOrEqual(from);
        next = to;
      }
      expect(next).toBe(sizes.length);
    }
  });
});

describe('readFiles', () => {
  // Three files read as one: a JSONL with a blank line and an unterminated last line, a gzipped JSONL with a BOM and
  // a bad row, and a Parquet file with a null text.
  const a = put('r/a.jsonl', '{"text":"a1"}\n\n{"text":"a3"}');
  const b = put('r/b.jsonl.gz', gzipSync('\uFEFF{"text":"b1"}\n{"text":5}\n{"text":"b3"}\n'));
  const c = put('r/c.parquet', parquet(['c1', null, 'c3', 'c4', 'c5']));
  const files = [a, b, c];
  // Lines: a 1-3, b 4-6, c 7-11 (a's unterminated last line counts, as LineSplitter counts it).
  const expected = [
    ['doc', 1, '1', 'a1', 0, 1],
    ['doc', 3, '3', 'a3', 0, 3],
    ['doc', 4, '4', 'b1', 1, 1],
    ['bad', 5, '5', null, 1, 2],
    ['doc', 6, '6', 'b3', 1, 3],
    ['doc', 7, '7', 'c1', 2, 1],
    ['bad', 8, '8', null, 2, 2],
    ['doc', 9, '9', 'c3', 2, 3],
    ['doc', 10, '10', 'c4', 2, 4],
    ['doc', 11, '11', 'c5', 2, 5],
  ];
  const view = (recs: InputRecord[]) =>
    recs.map((r) => [r.kind, r.line, r.id, r.kind === 'doc' ? r.text : null, r.part, r.fileLine]);

  it('numbers lines on across files; ids without an id field stay unique', async () => {
    expect(await Promise.all(files.map(countFileLines))).toEqual([3, 3, 5]);
    const recs = await collect(readFiles(files));
    expect(view(recs)).toEqual(expected);
    expect(recs.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(recs[3]!.file).toBe(b);
  });

  it('resume from any record gives the rest; slices by file concatenate to the whole', async () => {
    for (let k = 0; k <= expected.length; k++) {
      const rest = await collect(readFiles(files, { startIndex: k }));
      expect(view(rest)).toEqual(expected.slice(k));
    }
    for (const count of [1, 2, 3, 5]) {
      const parts = [];
      for (let index = 0; index < count; index++) {
        const slice = await collect(readFiles(files, { slice: { index, count } }));
        // A slice takes whole files.
        if (slice.length > 0) expect(slice[0]!.fileLine).toBe(1);
        parts.push(...slice);
        // Resume inside a slice counts from the slice's first record.
        if (slice.length > 1)
          expect(view(await collect(readFiles(files, { slice: { index, count }, startIndex: 1 })))).toEqual(
            view(slice.slice(1)),
          );
      }
      expect(view(parts)).toEqual(expected);
    }
  });

  it('openCorpus reads a directory, a glob and a list the same way', async () => {
    const want = view(await collect(readFiles(files)));
    const list = put('r-list.txt', 'r/a.jsonl\nr/b.jsonl.gz\nr/c.parquet\n');
    for (const input of [join(root, 'r'), `${root}/r/*`, `@${list}`]) {
      expect(await detectCorpusFormat(input)).toEqual({ kind: 'files', files: expect.any(Array) });
      expect(view(await collect(openCorpus(input)))).toEqual(want);
    }
    // With an id field, ids are the rows' own.
    put('ids/x.jsonl', '{"id":"p","text":"t"}\n{"text":"no id"}\n');
    put('ids/y.jsonl', '{"id":"q","text":"t"}\n');
    expect((await collect(openCorpus(join(root, 'ids'), { idField: 'id' }))).map((r) => r.id)).toEqual(['p', '2', 'q']);
  });
});
