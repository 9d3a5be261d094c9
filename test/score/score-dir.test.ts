/** The score-directory format read back: rows in order with their embeddings, streamed; bad directories named. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TailguardError } from '../../src/errors.js';
import { forEachJsonlRowSync } from '../../src/io/jsonl-rows-sync.js';
import { NpyWriter } from '../../src/io/npy-writer.js';
import { isScoreDir, readRun, SCORE_FILES, scoreRows } from '../../src/score/score-dir.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tailguard-scoredir-'));

async function scoreDir(rows: number, embeddingRows = rows): Promise<string> {
  const dir = tmp();
  writeFileSync(join(dir, SCORE_FILES.run), JSON.stringify({ options: { text_field: 'body', id_field: null } }));
  writeFileSync(
    join(dir, SCORE_FILES.scores),
    Array.from({ length: rows }, (_, i) => JSON.stringify({ id: `d${i}`, line: i + 1 })).join('\n') + '\n',
  );
  const npy = await NpyWriter.create(join(dir, SCORE_FILES.embeddings), 3);
  await npy.append(Float32Array.from({ length: embeddingRows * 3 }, (_, k) => k));
  await npy.close();
  return dir;
}

describe('score directory', () => {
  it('streams rows in order, each with its own row of embeddings.npy', async () => {
    const dir = await scoreDir(2500);
    expect(isScoreDir(dir)).toBe(true);
    expect(readRun(dir).options.text_field).toBe('body');
    let i = 0;
    for await (const row of scoreRows(dir, { embeddings: true })) {
      expect(row.id).toBe(`d${i}`);
      expect(Array.from(row.embedding!)).toEqual([3 * i, 3 * i + 1, 3 * i + 2]);
      i++;
    }
    expect(i).toBe(2500);
  });

  it('names an inconsistent directory instead of misaligning rows', async () => {
    const dir = await scoreDir(10, 9);
    const read = async () => {
      for await (const _ of scoreRows(dir, { embeddings: true })) void _;
    };
    await expect(read()).rejects.toThrow(/embeddings\.npy has 9 rows, scores\.jsonl more/);
  });

  it('an unreadable run.json is a TailguardError naming the file', () => {
    const dir = tmp();
    writeFileSync(join(dir, SCORE_FILES.run), '{not json');
    expect(() => readRun(dir)).toThrow(TailguardError);
    expect(() => readRun(dir)).toThrow(/run\.json is unreadable/);
    expect(isScoreDir(dir)).toBe(false);
  });
});

describe('forEachJsonlRowSync', () => {
  it('equals splitting the whole file, across 1 MiB blocks, CRLF and blank lines', () => {
    const dir = tmp();
    const rows = Array.from({ length: 30_000 }, (_, i) => ({ id: `row-${i}`, pad: 'x'.repeat(i % 97), line: i + 1 }));
    const text = rows
      .map((r, i) => JSON.stringify(r) + (i % 5 === 0 ? '\r\n' : '\n') + (i % 7 === 0 ? '\n' : ''))
      .join('');
    expect(text.length).toBeGreaterThan(2 * (1 << 20));
    const path = join(dir, 'rows.jsonl');
    writeFileSync(path, text.trimEnd()); // no final newline
    const seen: unknown[] = [];
    forEachJsonlRowSync(path, (row, i) => {
      expect(i).toBe(seen.length);
      seen.push(row);
    });
    expect(seen).toEqual(rows);
  });

  it('names the file and row of a line that is not JSON', () => {
    const path = join(tmp(), 'bad.jsonl');
    writeFileSync(path, '{"id": 1}\n\n{"id": 2\n');
    expect(() => forEachJsonlRowSync(path, () => undefined)).toThrow(/bad\.jsonl: row 2 is not JSON/);
  });
});
