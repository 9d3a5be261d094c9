import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { jsonlToParquet } from '../../src/io/parquet-from-jsonl.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
let n = 0;
function jsonl(rows: unknown[], extra = ''): string {
  const p = join(dir, `s${n++}.jsonl`);
  writeFileSync(p, rows.map((r) => JSON.stringify(r)).join('\n') + '\n' + extra);
  return p;
}

async function readBack(p: string) {
  const file = await asyncBufferFromFile(p);
  const metadata = await parquetMetadataAsync(file);
  const rows = await parquetReadObjects({ file, metadata });
  return { metadata, rows };
}

describe('jsonlToParquet', () => {
  it('round-trips flat rows in bounded row groups', async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => ({
      id: `doc-${i}`,
      line: i + 1,
      tokens: i * 3,
      ppl: i === 7 ? null : 1.5 + i / 7,
      flag: i % 3 === 0,
      note: i % 10 === 0 ? 'tenth' : null,
    }));
    const src = jsonl(rows, '\n  \n');
    const out = join(dir, 'scores.parquet');
    const res = await jsonlToParquet(src, out, { integerFields: ['line', 'tokens'], rowGroupSize: 1000 });
    expect(res.rows).toBe(2500);
    expect(res.columns).toEqual([
      { name: 'id', type: 'STRING' },
      { name: 'line', type: 'INT64' },
      { name: 'tokens', type: 'INT64' },
      { name: 'ppl', type: 'DOUBLE' },
      { name: 'flag', type: 'BOOLEAN' },
      { name: 'note', type: 'STRING' },
    ]);
    const { metadata, rows: back } = await readBack(out);
    expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([1000, 1000, 500]);
    expect(back.length).toBe(2500);
    expect(back[7]).toEqual({ id: 'doc-7', line: 8n, tokens: 21n, ppl: null, flag: false, note: null });
    expect(back[2499]).toEqual({ ...rows[2499], line: 2500n, tokens: 7497n });
    // No temp file left behind.
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('infers DOUBLE for integer-looking numbers unless told otherwise', async () => {
    const out = join(dir, 'd.parquet');
    await jsonlToParquet(jsonl([{ x: 1 }, { x: 2 }]), out, { rowGroupSize: 1 });
    const { rows } = await readBack(out);
    expect(rows).toEqual([{ x: 1 }, { x: 2 }]);
    expect(typeof rows[0]!.x).toBe('number');
  });

  it('uses columnTypes for columns that are null in the first group', async () => {
    const out = join(dir, 'c.parquet');
    const src = jsonl([{ a: 'x', b: null }, { a: 'y', b: 2.5 }, { a: 'z' }]);
    await jsonlToParquet(src, out, { rowGroupSize: 1, columnTypes: { b: 'DOUBLE', c: 'INT64' } });
    const { rows } = await readBack(out);
    expect(rows).toEqual([
      { a: 'x', b: null, c: null },
      { a: 'y', b: 2.5, c: null },
      { a: 'z', b: null, c: null },
    ]);
  });

  it('looks past the first group for a column that starts out all-null', async () => {
    const out = join(dir, 'late.parquet');
    const src = jsonl([{ a: 1, b: null }, { a: 2 }, { a: 3, b: 'late' }, { a: 4, b: null }]);
    const res = await jsonlToParquet(src, out, { rowGroupSize: 2 });
    expect(res.columns).toEqual([
      { name: 'a', type: 'DOUBLE' },
      { name: 'b', type: 'STRING' },
    ]);
    expect((await readBack(out)).rows.map((r) => r.b)).toEqual([null, null, 'late', null]);
    const nums = jsonl([
      { a: 1, b: null },
      { a: 2, b: null },
      { a: 3, b: 0.5 },
    ]);
    expect((await jsonlToParquet(nums, out, { rowGroupSize: 2 })).columns[1]).toEqual({ name: 'b', type: 'DOUBLE' });
  });

  it('fails clearly on a value that does not fit, and leaves no output', async () => {
    const out = join(dir, 'bad.parquet');
    await expect(jsonlToParquet(jsonl([{ a: 1 }, { a: 'two' }]), out, { rowGroupSize: 1 })).rejects.toThrow(
      /:2: column "a" is DOUBLE, got string/,
    );
    await expect(jsonlToParquet(jsonl([{ a: 1 }, { b: 2 }]), out, { rowGroupSize: 1 })).rejects.toThrow(
      /column "b" was not in the first row group/,
    );
    await expect(jsonlToParquet(jsonl([{ n: 1.5 }]), out, { integerFields: ['n'] })).rejects.toThrow(
      /column "n" is INT64, got number 1.5/,
    );
    await expect(jsonlToParquet(jsonl([{ a: 1 }], '{broken\n'), out)).rejects.toThrow(/:2: invalid JSON/);
    expect(readdirSync(dir).filter((f) => f.startsWith('bad.parquet') || f.includes('.tmp-'))).toEqual([]);
  });

  it('needs columnTypes to write an empty input', async () => {
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    await expect(jsonlToParquet(empty, join(dir, 'e.parquet'))).rejects.toThrow(/no rows/);
    const res = await jsonlToParquet(empty, join(dir, 'e.parquet'), { columnTypes: { id: 'STRING', ppl: 'DOUBLE' } });
    expect(res.rows).toBe(0);
    const { metadata, rows } = await readBack(join(dir, 'e.parquet'));
    expect(rows).toEqual([]);
    expect(metadata.schema.map((s) => s.name)).toEqual(['root', 'id', 'ppl']);
  });
});
