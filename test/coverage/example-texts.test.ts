/** Example texts for reports: read back from a score run's corpus (run.json) or an .npy's sidecar, or the reason not. */
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleTexts, withExampleTexts } from '../../src/coverage/example-texts.js';
import { scoreCorpus } from '../../src/score/score-corpus.js';
import { saveNpy } from './synthetic.js';

describe('exampleTexts', () => {
  it('a score directory: the texts of the wanted ids from the scored corpus, its own text and id fields, cut to length', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-examples-'));
    const corpus = join(dir, 'corpus.jsonl');
    const rows = Array.from({ length: 8 }, (_, i) => ({ key: `doc-${i}`, body: `Once upon a time there was story number ${i}. ${'It went on. '.repeat(i * 5)}` }));
    writeFileSync(corpus, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await scoreCorpus({ input: corpus, out: join(dir, 'scored'), model: 'stories260k', device: 'cpu', textField: 'body', idField: 'key' });

    const got = await exampleTexts(join(dir, 'scored'), ['doc-2', 'doc-7', 'doc-99'], 60);
    expect(got.missing).toBeUndefined();
    expect(got.texts.get('doc-2')).toBe(rows[2]!.body.slice(0, 59) + '…');
    expect(got.texts.get('doc-7')!.startsWith('Once upon a time there was story number 7.')).toBe(true);
    expect(got.texts.has('doc-99')).toBe(false);

    const { rows: withTexts } = await withExampleTexts([{ examples: ['doc-0', 'doc-99'] }], join(dir, 'scored'));
    expect(withTexts[0]!.example_texts).toEqual([rows[0]!.body, null]); // short enough to keep whole

    renameSync(corpus, join(dir, 'moved.jsonl'));
    const gone = await exampleTexts(join(dir, 'scored'), ['doc-2']);
    expect(gone.texts.size).toBe(0);
    expect(gone.missing).toMatch(/corpus\.jsonl is no longer there/);
  });

  it('an .npy: texts from the sidecar\'s text field; without one, the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-examples-'));
    const set = { data: new Float32Array(6), dim: 2 };
    saveNpy(join(dir, 'with'), set, ['a', 'b', 'c'], ['alpha', 'beta', 'gamma']);
    saveNpy(join(dir, 'ids'), set, ['a', 'b', 'c']);
    saveNpy(join(dir, 'bare'), set);
    expect((await exampleTexts(join(dir, 'with.npy'), ['c', 'a'])).texts).toEqual(new Map([['a', 'alpha'], ['c', 'gamma']]));
    expect((await exampleTexts(join(dir, 'ids.npy'), ['a'])).missing).toMatch(/none of the example ids found/);
    expect((await exampleTexts(join(dir, 'bare.npy'), ['a'])).missing).toMatch(/no .*bare\.jsonl beside the \.npy/);
  });
});
