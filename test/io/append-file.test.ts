import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStateError } from '../../src/errors.js';
import { AppendFile } from '../../src/io/append-file.js';
import { renameIntoPlace, tempPathFor, writeFileAtomic } from '../../src/io/atomic.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
let n = 0;
const path = () => join(dir, `f${n++}.jsonl`);

describe('AppendFile', () => {
  it('buffers writes, tracks bytes, and writes in order', async () => {
    const p = path();
    const f = await AppendFile.create(p, { flushBytes: 64 });
    const lines = Array.from({ length: 200 }, (_, i) => `{"i":${i},"s":"é"}\n`);
    let expected = 0;
    for (const l of lines) {
      await f.write(l);
      expected += Buffer.byteLength(l);
      expect(f.bytes).toBe(expected);
    }
    await f.write(Buffer.from('raw\n'));
    await f.close();
    expect(readFileSync(p, 'utf8')).toBe(lines.join('') + 'raw\n');
  });

  it('keeps order when writes are not awaited', async () => {
    const p = path();
    const f = await AppendFile.create(p, { flushBytes: 10 });
    const all: Promise<void>[] = [];
    for (let i = 0; i < 500; i++) all.push(f.write(`${i}\n`));
    await Promise.all(all);
    await f.close();
    expect(readFileSync(p, 'utf8')).toBe(Array.from({ length: 500 }, (_, i) => `${i}\n`).join(''));
  });

  it('copies the caller buffer', async () => {
    const p = path();
    const f = await AppendFile.create(p);
    const buf = Buffer.from('abc\n');
    await f.write(buf);
    buf.write('xyz\n');
    await f.close();
    expect(readFileSync(p, 'utf8')).toBe('abc\n');
  });

  it('sync() makes `bytes` durable on disk', async () => {
    const p = path();
    const f = await AppendFile.create(p);
    await f.write('hello\n');
    expect(statSync(p).size).toBe(0); // still buffered
    await f.sync();
    expect(statSync(p).size).toBe(6);
    await f.close();
  });

  it('resumes by truncating to the checkpointed size', async () => {
    const p = path();
    const f = await AppendFile.create(p);
    await f.write('line 1\nline 2\n');
    await f.sync();
    const checkpoint = f.bytes;
    await f.write('line 3 (after checkpoint)\nline 4 torn');
    await f.close();

    const r = await AppendFile.open(p, { resumeBytes: checkpoint });
    expect(r.bytes).toBe(checkpoint);
    await r.write('line 3\n');
    await r.close();
    expect(readFileSync(p, 'utf8')).toBe('line 1\nline 2\nline 3\n');
  });

  it('opens at the end without resumeBytes, creates a missing file with resumeBytes 0', async () => {
    const p = path();
    writeFileSync(p, 'abc');
    const f = await AppendFile.open(p);
    expect(f.bytes).toBe(3);
    await f.write('def');
    await f.close();
    expect(readFileSync(p, 'utf8')).toBe('abcdef');

    const q = path();
    const g = await AppendFile.open(q, { resumeBytes: 0 });
    await g.write('x');
    await g.close();
    expect(readFileSync(q, 'utf8')).toBe('x');
    // resumeBytes 0 on an existing file empties it (a fresh run over stale partial output).
    const h = await AppendFile.open(q, { resumeBytes: 0 });
    await h.close();
    expect(readFileSync(q, 'utf8')).toBe('');
  });

  it('refuses to resume a file shorter than the checkpoint', async () => {
    const p = path();
    writeFileSync(p, 'short');
    await expect(AppendFile.open(p, { resumeBytes: 100 })).rejects.toThrow(RunStateError);
    await expect(AppendFile.open(path(), { resumeBytes: 5 })).rejects.toThrow(/ENOENT/);
  });

  it('writeAt patches earlier bytes; write after close fails', async () => {
    const p = path();
    const f = await AppendFile.create(p);
    await f.write('HEADER--body');
    await f.writeAt(0, Buffer.from('header'));
    await expect(f.writeAt(10, Buffer.from('xxxxx'))).rejects.toThrow(RangeError);
    await f.close();
    await f.close(); // idempotent
    expect(readFileSync(p, 'utf8')).toBe('header--body');
    await expect(f.write('more')).rejects.toThrow(/after close/);
  });
});

describe('atomic writes', () => {
  it('writeFileAtomic replaces content and leaves no temp files', async () => {
    const sub = join(dir, 'atomic');
    await import('node:fs/promises').then((m) => m.mkdir(sub));
    const p = join(sub, 'checkpoint.json');
    await writeFileAtomic(p, '{"a":1}');
    await writeFileAtomic(p, new TextEncoder().encode('{"a":2}'));
    expect(readFileSync(p, 'utf8')).toBe('{"a":2}');
    expect(readdirSync(sub)).toEqual(['checkpoint.json']);
  });

  it('renameIntoPlace moves a temp file over the target', async () => {
    const target = join(dir, 'final.bin');
    writeFileSync(target, 'old');
    const tmp = tempPathFor(target);
    expect(tmp.startsWith(join(dir, '.final.bin.tmp-'))).toBe(true);
    writeFileSync(tmp, 'new');
    await renameIntoPlace(tmp, target);
    expect(readFileSync(target, 'utf8')).toBe('new');
  });

  it('writeFileAtomic cleans up when the target directory is missing', async () => {
    await expect(writeFileAtomic(join(dir, 'no-such-dir', 'x.json'), 'x')).rejects.toThrow();
  });
});
