import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorpusOpenError } from '../../src/errors.js';
import { listTextFiles, readTextDir } from '../../src/io/read-textdir.js';
import type { InputRecord } from '../../src/io/records.js';
import { collect, tempDir } from './helpers.js';

const summary = (r: InputRecord) =>
  r.kind === 'doc' ? [r.index, r.line, r.id, r.text] : [r.index, r.line, r.id, `BAD: ${r.reason}`];

function makeCorpus(): string {
  const root = join(tempDir(), 'corpus');
  mkdirSync(join(root, 'b', 'deeper'), { recursive: true });
  mkdirSync(join(root, 'a'));
  writeFileSync(join(root, 'b', 'deeper', 'z.txt'), 'deep\r\nfile');
  writeFileSync(join(root, 'a', 'one.txt'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('first ✓')]));
  writeFileSync(join(root, 'a', 'two.TXT'), 'upper-case extension');
  writeFileSync(join(root, 'a', 'notes.md'), 'ignored');
  writeFileSync(join(root, 'empty.txt'), '');
  writeFileSync(join(root, 'blank.txt'), ' \n\t ');
  writeFileSync(join(root, 'bad.txt'), Buffer.from([0x61, 0x62, 0xfe]));
  writeFileSync(join(root, 'big.txt'), 'y'.repeat(2000));
  symlinkSync(join(root, 'a', 'one.txt'), join(root, 'link.txt'));
  return root;
}

describe('readTextDir', () => {
  const root = makeCorpus();

  it('lists .txt files recursively in sorted relative-path order', async () => {
    expect(await listTextFiles(root)).toEqual(
      ['a/one.txt', 'a/two.TXT', 'bad.txt', 'b/deeper/z.txt', 'big.txt', 'blank.txt', 'empty.txt', 'link.txt'].sort(),
    );
  });

  it('yields one record per file, with bad files as BadRecords', async () => {
    const recs = await collect(readTextDir(root, { maxDocBytes: 1000 }));
    expect(recs.map(summary)).toEqual([
      [0, 1, 'a/one.txt', 'first ✓'],
      [1, 2, 'a/two.TXT', 'upper-case extension'],
      [2, 3, 'b/deeper/z.txt', 'deep\r\nfile'],
      [3, 4, 'bad.txt', 'BAD: invalid UTF-8 at byte offset 2 of the file'],
      [4, 5, 'big.txt', 'BAD: file is 2000 bytes, exceeds the limit of 1000 bytes'],
      [5, 6, 'blank.txt', 'BAD: empty document'],
      [6, 7, 'empty.txt', 'BAD: empty document'],
      [7, 8, 'link.txt', 'first ✓'],
    ]);
    expect(recs[2]!.file).toBe(join(root, 'b', 'deeper', 'z.txt'));
  });

  it('resumes at startIndex', async () => {
    const all = await collect(readTextDir(root));
    expect(await collect(readTextDir(root, { startIndex: 5 }))).toEqual(all.slice(5));
  });

  it('throws CorpusOpenError for a missing directory', async () => {
    await expect(collect(readTextDir(join(root, 'nope')))).rejects.toThrow(CorpusOpenError);
  });
});
