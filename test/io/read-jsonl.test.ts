import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CorpusOpenError } from '../../src/errors.js';
import { readJsonl, readJsonlStream } from '../../src/io/read-jsonl.js';
import type { InputRecord } from '../../src/io/records.js';
import { bads, chunked, collect, docs, tempDir } from './helpers.js';

const dir = tempDir();
// Two zstd frames (one with, one without checksum), made with the zstd CLI.
const ZST_FIXTURE = fileURLToPath(new URL('./fixtures/tiny-two-frames.jsonl.zst', import.meta.url));
let n = 0;
function file(content: string | Uint8Array, ext = '.jsonl'): string {
  const p = join(dir, `c${n++}${ext}`);
  writeFileSync(p, content);
  return p;
}
const read = (p: string, opts = {}) => collect(readJsonl(p, opts));
const summary = (r: InputRecord) =>
  r.kind === 'doc' ? [r.index, r.line, r.id, r.text] : [r.index, r.line, r.id, `BAD: ${r.reason}`];

const hasZstd = (() => {
  try {
    execFileSync('zstd', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('readJsonl', () => {
  it('reads docs, skips blank lines but keeps line numbers, handles CRLF', async () => {
    const p = file('{"text":"a"}\r\n\n   \t\r\n{"text":"b"}\r\n{"text":"c"}');
    const recs = await read(p);
    expect(recs.map(summary)).toEqual([
      [0, 1, '1', 'a'],
      [1, 4, '4', 'b'],
      [2, 5, '5', 'c'],
    ]);
    expect(recs[0]).toEqual({ kind: 'doc', index: 0, line: 1, id: '1', text: 'a', file: p });
  });

  it('turns every kind of bad row into a BadRecord, in order', async () => {
    const lines = [
      '{"text": "ok"}',
      '{"text": "unterminated',
      '{"body": "no text"}',
      '{"text": 42}',
      '{"text": null}',
      '{"text": ["a"]}',
      '{"text": ""}',
      '{"text": " \\n\\t "}',
      '[1, 2]',
      '"just a string"',
    ];
    const bytes = Buffer.concat([
      Buffer.from(lines.join('\n') + '\n'),
      Buffer.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0x61, 0xff, 0x22, 0x7d, 0x0a]), // {"text":"a\xFF"}
      Buffer.from(`{"text":"${'x'.repeat(200)}"}\n{"text":"last"}\n`),
    ]);
    const recs = await read(file(bytes), { maxLineBytes: 100 });
    expect(recs.map((r) => r.index)).toEqual([...Array(13).keys()]);
    expect(docs(recs).map((r) => r.text)).toEqual(['ok', 'last']);
    const reasons = bads(recs).map((r) => [r.line, r.reason]);
    expect(reasons[0]![0]).toBe(2);
    expect(reasons[0]![1]).toMatch(/^invalid JSON: .*(Unterminated|unterminated|JSON)/);
    expect(reasons.slice(1)).toEqual([
      [3, 'missing field "text"'],
      [4, 'field "text" is number, expected string'],
      [5, 'field "text" is null, expected string'],
      [6, 'field "text" is array, expected string'],
      [7, 'empty document'],
      [8, 'empty document'],
      [9, 'line is a JSON array, expected an object'],
      [10, 'line is a JSON string, expected an object'],
      [11, 'invalid UTF-8 at byte offset 10 of the line'],
      [12, 'line is 211 bytes, exceeds the limit of 100 bytes'],
    ]);
    // Without an id field, bad rows still carry the line number as id.
    expect(bads(recs).every((r) => r.id === String(r.line))).toBe(true);
  });

  it('uses textField and idField; falls back to the line number for a missing or null id', async () => {
    const p = file(
      [
        '{"body": "one", "doc_id": "d1"}',
        '{"body": "two", "doc_id": 7}',
        '{"body": "three"}',
        '{"body": "four", "doc_id": null}',
        '{"body": "five", "doc_id": {"x": 1}}',
        '{"body": "six", "doc_id": [1]}',
        '{"doc_id": "d7"}',
        '{"body": "eight", "doc_id": true}',
      ].join('\n'),
    );
    const recs = await read(p, { textField: 'body', idField: 'doc_id' });
    expect(recs.map(summary)).toEqual([
      [0, 1, 'd1', 'one'],
      [1, 2, '7', 'two'],
      [2, 3, '3', 'three'],
      [3, 4, '4', 'four'],
      [4, 5, null, 'BAD: id field "doc_id" is object, expected a string or number'],
      [5, 6, null, 'BAD: id field "doc_id" is array, expected a string or number'],
      [6, 7, 'd7', 'BAD: missing field "body"'],
      [7, 8, 'true', 'eight'],
    ]);
    // Without idField, an "id" key in the row is ignored: ids are line numbers.
    const plain = await read(file('{"id": "x", "text": "t"}\n'));
    expect(plain[0]!.id).toBe('1');
  });

  it('strips a UTF-8 BOM on the first line only', async () => {
    const p = file(
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from('{"text":"a"}\n'),
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from('{"text":"b"}\n'),
      ]),
    );
    const recs = await read(p);
    expect(recs[0]).toMatchObject({ kind: 'doc', text: 'a' });
    expect(recs[1]).toMatchObject({ kind: 'bad', line: 2 });
  });

  it('reads a 10 MB document intact, across many read chunks', async () => {
    const big = 'Ω'.repeat(2_500_000) + 'the end ' + 'x'.repeat(5_000_000); // ~10 MB of UTF-8
    const p = file(`{"text":"small"}\n${JSON.stringify({ text: big })}\n{"text":"after"}\n`);
    const recs = await read(p);
    expect(recs.map((r) => r.kind)).toEqual(['doc', 'doc', 'doc']);
    const d = docs(recs);
    expect(d[1]!.text.length).toBe(big.length);
    expect(d[1]!.text === big).toBe(true);
    expect(d[2]).toMatchObject({ line: 3, text: 'after' });
  });

  it('reads gzip (including concatenated members)', async () => {
    const a = gzipSync('{"text":"a"}\n{"text":"b"}\n');
    const b = gzipSync('\n{"text":"c"}');
    const recs = await read(file(Buffer.concat([a, b]), '.jsonl.gz'));
    expect(recs.map(summary)).toEqual([
      [0, 1, '1', 'a'],
      [1, 2, '2', 'b'],
      [2, 4, '4', 'c'],
    ]);
  });

  it('reports a corrupt gzip stream as CorpusOpenError', async () => {
    const good = gzipSync(Buffer.from('{"text":"a"}\n'.repeat(1000)));
    const corrupt = Buffer.from(good);
    corrupt.fill(0x55, 20, 60);
    await expect(read(file(corrupt, '.jsonl.gz'))).rejects.toBeInstanceOf(CorpusOpenError);
    await expect(read(file('not gzip at all', '.jsonl.gz'))).rejects.toThrow(/read failed/);
  });

  it('reads the committed two-frame .zst fixture', async () => {
    const recs = await read(ZST_FIXTURE, { idField: 'id' });
    expect(recs.map(summary)).toEqual([
      [0, 1, 'a', 'first frame'],
      [1, 3, 'b', 'café ✓'],
      [2, 4, 'c', 'second frame'],
      [3, 5, 'd', 'BAD: empty document'],
      [4, 6, 'e', 'no trailing newline'],
    ]);
  });

  it.skipIf(!hasZstd)('reads a multi-block .zst made by the zstd CLI', async () => {
    const rows = Array.from({ length: 30_000 }, (_, i) =>
      JSON.stringify({ id: i, text: `document ${i} ${'lorem '.repeat(i % 17)}` }),
    );
    const plain = file(rows.join('\n') + '\n');
    const zst = `${plain}.zst`;
    execFileSync('zstd', ['-q', '-3', '-f', plain, '-o', zst]);
    expect(readFileSync(zst).length).toBeLessThan(readFileSync(plain).length);
    const recs = await read(zst, { idField: 'id' });
    expect(recs.length).toBe(30_000);
    expect(docs(recs).length).toBe(30_000);
    expect(recs[29_999]).toMatchObject({ id: '29999', line: 30_000, text: expect.stringMatching(/^document 29999 /) });
  });

  it('reports a truncated .zst as CorpusOpenError', async () => {
    const fixture = readFileSync(ZST_FIXTURE);
    await expect(read(file(fixture.subarray(0, fixture.length - 10), '.jsonl.zst'))).rejects.toBeInstanceOf(
      CorpusOpenError,
    );
  });

  it('skips the first K records without parsing them (startIndex)', async () => {
    const p = file(['{"text":"a"}', '', '{bad json', '{"text":"c"}', '  ', '{"text":"d"}'].join('\n'));
    const all = await read(p);
    for (let k = 0; k <= all.length + 1; k++) {
      const rest = await read(p, { startIndex: k });
      expect(rest).toEqual(all.slice(k));
    }
  });

  it('gives identical records for any chunking of the byte stream', async () => {
    const bytes = Buffer.from('{"text":"é✓"}\r\n\n{"text":"b", "id": 3}\n{oops}\n{"text":"c"}');
    const ref = await collect(readJsonlStream(chunked(bytes, [bytes.length]), 'mem', { compression: 'none' }));
    for (const sizes of [[1], [2, 3], [5, 1, 7]]) {
      expect(await collect(readJsonlStream(chunked(bytes, sizes), 'mem', { compression: 'none' }))).toEqual(ref);
    }
  });

  it('sniffs gzip and zstd on a nameless stream', async () => {
    const gz = gzipSync('{"text":"g"}\n');
    const recs = await collect(readJsonlStream(chunked(gz, [1]), '<stdin>'));
    expect(recs).toEqual([{ kind: 'doc', index: 0, line: 1, id: '1', text: 'g', file: '<stdin>' }]);
    const zst = readFileSync(ZST_FIXTURE);
    expect((await collect(readJsonlStream(chunked(zst, [2]), '<stdin>'))).length).toBe(5);
  });

  it('can be abandoned early without hanging (plain, gz, zst)', async () => {
    const body = '{"text":"a"}\n'.repeat(50_000);
    for (const p of [file(body), file(gzipSync(body), '.jsonl.gz'), ZST_FIXTURE]) {
      for await (const r of readJsonl(p)) {
        expect(r.index).toBe(0);
        break;
      }
    }
  });

  it('throws CorpusOpenError for a missing file or a directory', async () => {
    await expect(read(join(dir, 'nope.jsonl'))).rejects.toThrow(CorpusOpenError);
    await expect(read(join(dir, 'nope.jsonl'))).rejects.toThrow(/no such file/);
    await expect(read(dir)).rejects.toThrow(/is a directory/);
  });

  it('streams a 20 MB input with bounded buffering', async () => {
    // 20 MB of ~1 KB lines, fed in 64 KiB chunks: the reader must not accumulate.
    const line = JSON.stringify({ text: 'z'.repeat(1000) }) + '\n';
    const count = 320 * 64;
    async function* gen(): AsyncGenerator<Uint8Array> {
      const chunk = Buffer.from(line.repeat(64));
      for (let i = 0; i < 320; i++) yield chunk;
    }
    let seen = 0;
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    for await (const r of readJsonlStream(gen(), 'mem', { compression: 'none', maxLineBytes: 4096 })) {
      if (r.kind === 'doc') seen++;
      if (seen % 2000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    expect(seen).toBe(count);
    // Loose bound (GC timing varies); holding the whole input would be > 20 MB.
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
  });
});
