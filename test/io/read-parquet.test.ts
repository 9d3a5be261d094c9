import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer, type ColumnSource } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { CorpusOpenError } from '../../src/errors.js';
import { readJsonl } from '../../src/io/read-jsonl.js';
import { readParquet } from '../../src/io/read-parquet.js';
import type { InputRecord } from '../../src/io/records.js';
import { collect, tempDir } from './helpers.js';

const dir = tempDir();
let n = 0;
function parquet(columnData: ColumnSource[], extra: { rowGroupSize?: number; codec?: 'GZIP' | 'SNAPPY' } = {}): string {
  const p = join(dir, `t${n++}.parquet`);
  const buf = parquetWriteBuffer({
    columnData,
    rowGroupSize: extra.rowGroupSize ?? 3,
    codec: extra.codec ?? 'SNAPPY',
    compressors: { GZIP: (b: Uint8Array) => gzipSync(b) },
  });
  writeFileSync(p, new Uint8Array(buf));
  return p;
}
const summary = (r: InputRecord) =>
  r.kind === 'doc' ? [r.index, r.line, r.id, r.text] : [r.index, r.line, r.id, `BAD: ${r.reason}`];

const texts = [
  'alpha',
  'beta',
  null,
  '',
  '   ',
  Uint8Array.from([0x68, 0x69, 0xc3, 0x28]), // "hi" + invalid UTF-8
  'x'.repeat(50),
  'gamma ✓',
];
const ids = [10n, 11n, 12n, 13n, 14n, 15n, 16n, 17n];

describe('readParquet', () => {
  it('reads rows across row groups with the same field rules as JSONL', async () => {
    const p = parquet([
      { name: 'doc_id', data: ids, type: 'INT64' },
      { name: 'text', data: texts as unknown as string[], type: 'STRING' },
    ]);
    const recs = await collect(readParquet(p, { idField: 'doc_id', maxDocBytes: 40 }));
    expect(recs.map(summary)).toEqual([
      [0, 1, '10', 'alpha'],
      [1, 2, '11', 'beta'],
      [2, 3, '12', 'BAD: field "text" is null, expected string'],
      [3, 4, '13', 'BAD: empty document'],
      [4, 5, '14', 'BAD: empty document'],
      [5, 6, '15', 'BAD: field "text" has invalid UTF-8 at byte offset 2'],
      [6, 7, '16', 'BAD: field "text" is 50 bytes, exceeds the limit of 40 bytes'],
      [7, 8, '17', 'gamma ✓'],
    ]);
    expect(recs[0]!.file).toBe(p);
  });

  it('kept fields may name the text and id columns, as for JSONL', async () => {
    const rows = [
      { doc_id: 'a', text: 'alpha', src: 'x' },
      { doc_id: 'b', text: 'beta', src: 'y' },
    ];
    const p = parquet([
      { name: 'doc_id', data: rows.map((r) => r.doc_id), type: 'STRING' },
      { name: 'text', data: rows.map((r) => r.text), type: 'STRING' },
      { name: 'src', data: rows.map((r) => r.src), type: 'STRING' },
    ]);
    const j = join(dir, 'kept.jsonl');
    writeFileSync(j, rows.map((r) => JSON.stringify(r) + '\n').join(''));
    const opts = { idField: 'doc_id', keepFields: ['text', 'doc_id', 'src', 'absent'] };
    const fields = (recs: InputRecord[]) => recs.map((r) => (r.kind === 'doc' ? r.fields : undefined));
    const fromParquet = fields(await collect(readParquet(p, opts)));
    expect(fromParquet).toEqual(rows);
    expect(fromParquet).toEqual(fields(await collect(readJsonl(j, opts))));
  });

  it('uses row numbers as ids without idField or when the id column is absent', async () => {
    const p = parquet([{ name: 'content', data: ['a', 'b', 'c', 'd'], type: 'STRING' }], { codec: 'GZIP' });
    for (const opts of [{ textField: 'content' }, { textField: 'content', idField: 'nope' }]) {
      const recs = await collect(readParquet(p, opts));
      expect(recs.map(summary)).toEqual([
        [0, 1, '1', 'a'],
        [1, 2, '2', 'b'],
        [2, 3, '3', 'c'],
        [3, 4, '4', 'd'],
      ]);
    }
  });

  it('starts at startIndex, skipping whole row groups', async () => {
    const p = parquet([
      { name: 'id', data: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], type: 'STRING' },
      { name: 'text', data: ['1', '2', '3', '4', '5', '6', '7'], type: 'STRING' },
    ]);
    const all = await collect(readParquet(p, { idField: 'id' }));
    expect(all.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    for (let k = 0; k <= 8; k++) {
      expect(await collect(readParquet(p, { idField: 'id', startIndex: k }))).toEqual(all.slice(k));
    }
  });

  it('rejects a file without the text column, or with a non-string one, up front', async () => {
    const p = parquet([
      { name: 'body', data: ['a'], type: 'STRING' },
      { name: 'n', data: [1], type: 'INT32' },
    ]);
    await expect(collect(readParquet(p))).rejects.toThrow(CorpusOpenError);
    await expect(collect(readParquet(p))).rejects.toThrow(/no column "text" \(columns: body, n\)/);
    await expect(collect(readParquet(p, { textField: 'n' }))).rejects.toThrow(/column "n" is INT32, expected a string/);
  });

  it('rejects a file that is not Parquet', async () => {
    const p = join(dir, 'fake.parquet');
    writeFileSync(p, 'this is not parquet at all, just text');
    await expect(collect(readParquet(p))).rejects.toThrow(/not a readable Parquet file/);
    await expect(collect(readParquet(join(dir, 'missing.parquet')))).rejects.toThrow(CorpusOpenError);
  });
});
