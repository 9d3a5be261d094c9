/** Every text of an embedding set, row by row: a score directory's rows by their corpus lines, an .npy's sidecar. */
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rowTexts, type RowText } from '../../src/coverage/row-texts.js';
import { scoreCorpus } from '../../src/score/score-corpus.js';
import { saveNpy } from './synthetic.js';

async function all(path: string): Promise<RowText[] | string> {
  const t = rowTexts(path);
  if ('missing' in t) return t.missing;
  const out: RowText[] = [];
  for await (const r of t.rows) out.push(r);
  return out;
}

describe('rowTexts', () => {
  it('a score directory: row i is the corpus record at its line, past rows that were not scored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-rowtexts-'));
    const corpus = join(dir, 'corpus.jsonl');
    const rows = [
      { key: 'a', body: 'The first one.' },
      { key: 'b', body: '' }, // not scored: score row 1 is corpus line 3
      { key: 'c', body: 'The third one.' },
      { key: 'a', body: 'A repeated id.' },
    ];
    writeFileSync(corpus, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await scoreCorpus({
      input: corpus,
      out: join(dir, 'scored'),
      model: 'stories260k',
      device: 'cpu',
      textField: 'body',
      idField: 'key',
    });
    expect(await all(join(dir, 'scored'))).toEqual([
      { row: 0, id: 'a', text: 'The first one.' },
      { row: 1, id: 'c', text: 'The third one.' },
      { row: 2, id: 'a', text: 'A repeated id.' },
    ]);
    renameSync(corpus, join(dir, 'moved.jsonl'));
    expect(await all(join(dir, 'scored'))).toMatch(/corpus\.jsonl is no longer there/);
  });

  it('an .npy: record r of the sidecar; without a sidecar or the .npy, the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-rowtexts-'));
    saveNpy(join(dir, 'x'), { data: new Float32Array(4), dim: 2 }, ['p', 'p'], ['one', 'two']);
    expect(await all(join(dir, 'x.npy'))).toEqual([
      { row: 0, id: 'p', text: 'one' },
      { row: 1, id: 'p', text: 'two' },
    ]);
    saveNpy(join(dir, 'bare'), { data: new Float32Array(4), dim: 2 });
    expect(await all(join(dir, 'bare.npy'))).toMatch(/no .*bare\.jsonl beside/);
    expect(await all(join(dir, 'gone.npy'))).toMatch(/gone\.npy is no longer there/);
  });
});
