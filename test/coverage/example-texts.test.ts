/**
 * Example texts for reports: read back from a score run's corpus (run.json) or an .npy's sidecar, or the reason not;
 * found by row, so rows that share an id each get their own text.
 */
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleTexts, withExampleTexts } from '../../src/coverage/example-texts.js';
import { loadVectors } from '../../src/coverage/vectors.js';
import { scoreCorpus } from '../../src/score/score-corpus.js';
import { saveNpy } from './synthetic.js';

describe('exampleTexts', () => {
  it('a score directory: the texts of the wanted rows from the scored corpus, its own text and id fields, cut to length', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-examples-'));
    const corpus = join(dir, 'corpus.jsonl');
    const rows = Array.from({ length: 8 }, (_, i) => ({
      key: `doc-${i}`,
      body: `Once upon a time there was story number ${i}. ${'It went on. '.repeat(i * 5)}`,
    }));
    writeFileSync(corpus, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await scoreCorpus({
      input: corpus,
      out: join(dir, 'scored'),
      model: 'stories260k',
      device: 'cpu',
      textField: 'body',
      idField: 'key',
    });

    const set = loadVectors(join(dir, 'scored'));
    const got = await exampleTexts(set, [2, 7], 60);
    expect(got.missing).toBeUndefined();
    expect(got.texts.get(2)).toBe(rows[2]!.body.slice(0, 59) + '…');
    expect(got.texts.get(7)!.startsWith('Once upon a time there was story number 7.')).toBe(true);
    expect(got.texts.size).toBe(2);

    const { rows: withTexts } = await withExampleTexts([{ examples: ['doc-0', 'doc-1'] }], [[0, 1]], set);
    expect(withTexts[0]!.example_texts).toEqual([rows[0]!.body, rows[1]!.body]); // short enough to keep whole

    renameSync(corpus, join(dir, 'moved.jsonl'));
    const gone = await exampleTexts(set, [2]);
    expect(gone.texts.size).toBe(0);
    expect(gone.missing).toMatch(/corpus\.jsonl is no longer there/);
  });

  it("an .npy: texts from the sidecar's text field; without one, the reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-examples-'));
    const set = { data: new Float32Array(6), dim: 2 };
    saveNpy(join(dir, 'with'), set, ['a', 'b', 'c'], ['alpha', 'beta', 'gamma']);
    saveNpy(join(dir, 'ids'), set, ['a', 'b', 'c']);
    saveNpy(join(dir, 'bare'), set);
    expect((await exampleTexts(loadVectors(join(dir, 'with.npy')), [2, 0])).texts).toEqual(
      new Map([
        [0, 'alpha'],
        [2, 'gamma'],
      ]),
    );
    expect((await exampleTexts(loadVectors(join(dir, 'ids.npy')), [0])).missing).toMatch(
      /none of the example ids found/,
    );
    expect((await exampleTexts(loadVectors(join(dir, 'bare.npy')), [0])).missing).toMatch(
      /no .*bare\.jsonl beside the \.npy/,
    );
  });
});

describe('exampleTexts with repeated ids', () => {
  it('a score directory: each row its own text, by its corpus line, past a row that could not be scored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-examples-'));
    const corpus = join(dir, 'corpus.jsonl');
    const rows = [
      { key: 'x', body: 'The first x.' },
      { key: 'x', body: '' }, // line 2: not scored, so score row r is not corpus line r + 1 after it
      { key: 'y', body: 'The only y.' },
      { key: 'x', body: 'The second x.' },
      { key: 'x', body: 'The third x.' },
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
    const set = loadVectors(join(dir, 'scored'));
    expect(set.ids).toEqual(['x', 'y', 'x', 'x']);
    const got = await exampleTexts(set, [0, 2, 3]);
    expect(got.texts).toEqual(
      new Map([
        [0, 'The first x.'],
        [2, 'The second x.'],
        [3, 'The third x.'],
      ]),
    );
    const { rows: withTexts } = await withExampleTexts(
      [{ examples: ['x', 'x'] }, { examples: ['y', 'x'] }],
      [
        [3, 0],
        [1, 2],
      ],
      set,
    );
    expect(withTexts.map((r) => r.example_texts)).toEqual([
      ['The third x.', 'The first x.'],
      ['The only y.', 'The second x.'],
    ]);
  });

  it('an .npy: row r is record r of its sidecar, whatever its id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-examples-'));
    saveNpy(
      join(dir, 'dup'),
      { data: new Float32Array(8), dim: 2 },
      ['a', 'b', 'a', 'a'],
      ['one', 'two', 'three', 'four'],
    );
    expect((await exampleTexts(loadVectors(join(dir, 'dup.npy')), [3, 0, 2])).texts).toEqual(
      new Map([
        [0, 'one'],
        [2, 'three'],
        [3, 'four'],
      ]),
    );
  });
});
