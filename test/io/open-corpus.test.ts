import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { CorpusOpenError } from '../../src/errors.js';
import { detectCorpusFormat, openCorpus, skipRecords } from '../../src/io/open-corpus.js';
import { collect, tempDir } from './helpers.js';

const dir = tempDir();
const put = (name: string, data: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};

describe('openCorpus', () => {
  const jsonl = '{"k":"1","t":"one"}\n{"k":"2","t":"two"}\n';

  it('dispatches on the path', async () => {
    const files = {
      jsonl: put('a.jsonl', jsonl),
      ndjson: put('a.ndjson', jsonl),
      json: put('a.json', jsonl),
      gz: put('a.jsonl.gz', gzipSync(jsonl)),
      parquet: put(
        'a.parquet',
        new Uint8Array(
          parquetWriteBuffer({
            columnData: [
              { name: 'k', data: ['1', '2'], type: 'STRING' },
              { name: 't', data: ['one', 'two'], type: 'STRING' },
            ],
          }),
        ),
      ),
    };
    for (const p of Object.values(files)) {
      const recs = await collect(openCorpus(p, { textField: 't', idField: 'k' }));
      expect(recs.map((r) => (r.kind === 'doc' ? `${r.id}:${r.text}` : r.reason))).toEqual(['1:one', '2:two']);
    }
    expect(await detectCorpusFormat(files.gz)).toEqual({ kind: 'jsonl', compression: 'gzip', stdin: false });
    expect(await detectCorpusFormat(files.parquet)).toEqual({ kind: 'parquet' });
    expect(await detectCorpusFormat('-')).toEqual({ kind: 'jsonl', compression: 'none', stdin: true });

    const tdir = join(dir, 'texts');
    mkdirSync(tdir);
    writeFileSync(join(tdir, 'x.txt'), 'hello');
    expect(await collect(openCorpus(tdir))).toEqual([
      { kind: 'doc', index: 0, line: 1, id: 'x.txt', text: 'hello', file: join(tdir, 'x.txt') },
    ]);
  });

  it('passes maxDocBytes and startIndex through', async () => {
    const p = put('b.jsonl', `{"text":"${'x'.repeat(100)}"}\n{"text":"ok"}\n{"text":"ok2"}\n`);
    const recs = await collect(openCorpus(p, { maxDocBytes: 50 }));
    expect(recs[0]).toMatchObject({ kind: 'bad', reason: expect.stringMatching(/exceeds the limit of 50 bytes/) });
    expect((await collect(openCorpus(p, { startIndex: 2 }))).map((r) => r.index)).toEqual([2]);
  });

  it('throws CorpusOpenError for missing paths and unknown extensions', async () => {
    await expect(collect(openCorpus(join(dir, 'missing.jsonl')))).rejects.toThrow(CorpusOpenError);
    await expect(collect(openCorpus(join(dir, 'missing.jsonl')))).rejects.toThrow(/no such file or directory/);
    const csv = put('data.csv', 'a,b\n');
    await expect(collect(openCorpus(csv))).rejects.toThrow(/unsupported corpus format; supported: .*\.parquet/);
    await expect(detectCorpusFormat(put('x.parquet.gz', 'zz'))).rejects.toThrow(CorpusOpenError);
  });

  it('skipRecords drops the first k items', async () => {
    const p = put('c.jsonl', '{"text":"a"}\n{"text":"b"}\n{"text":"c"}\n');
    expect((await collect(skipRecords(openCorpus(p), 2))).map((r) => r.index)).toEqual([2]);
  });
});
