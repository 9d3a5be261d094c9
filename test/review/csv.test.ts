/** CSV both ways: the queue's quoting, and the line each record starts on (for FILE:LINE errors), counted by hand. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csvRecords, toCsv } from '../../src/review/csv.js';

const dir = mkdtempSync(join(tmpdir(), 'tailguard-csv-'));
async function lines(text: string): Promise<[string, number][]> {
  const path = join(dir, 'x.csv');
  writeFileSync(path, text);
  const out: [string, number][] = [];
  for await (const r of csvRecords(path)) out.push([r.record.a!, r.line]);
  return out;
}

describe('csvRecords', () => {
  it('numbers each record by the physical line it starts on', async () => {
    // Lines: 1 header; 2–3 record 1 (an embedded \r\n); 4 blank; 5 record 2; 6–8 record 3; 9 record 4 (no final newline).
    expect(await lines('a,b\r\n1,"x\r\ny"\r\n\r\n2,z\r\n3,"p\nq\nr"\r\n4,w')).toEqual([
      ['1', 2],
      ['2', 5],
      ['3', 6],
      ['4', 9],
    ]);
    expect(await lines('\ufeffa,b\n1,"x\r\ny"\n\n2,"z"\n3,3\n')).toEqual([
      ['1', 2],
      ['2', 5],
      ['3', 6],
    ]);
    expect(await lines('a,b\n1,2\n\n\n3,"\n"\n')).toEqual([
      ['1', 2],
      ['3', 5],
    ]);
  });

  it('a malformed file is an error naming it', async () => {
    await expect(lines('a,b\n1,"open\n')).rejects.toThrow(/x\.csv.*not valid CSV/);
  });
});

describe('toCsv', () => {
  it('quotes what needs quoting and reads back the same', async () => {
    const rows = [
      { a: 'plain', b: 'x' },
      { a: 'comma, "quote"', b: 'new\nline' },
      { a: '', b: null },
      { a: 'tags', b: ['near_threshold', 'held_batch'] },
    ];
    const text = toCsv(['a', 'b'], rows);
    expect(text).toBe('a,b\nplain,x\n"comma, ""quote""","new\nline"\n,\ntags,near_threshold;held_batch\n');
    const path = join(dir, 'y.csv');
    writeFileSync(path, text);
    const back: Record<string, string>[] = [];
    for await (const r of csvRecords(path)) back.push(r.record);
    expect(back).toEqual([
      { a: 'plain', b: 'x' },
      { a: 'comma, "quote"', b: 'new\nline' },
      { a: '', b: '' },
      { a: 'tags', b: 'near_threshold;held_batch' },
    ]);
  });
});
