/**
 * Binoculars through the whole run: models/stories260k scores, a perturbed sibling (same tokenizer) observes, and
 * every row's `binoculars` is checked against independent float64 forward passes of both llama2.c checkpoints
 * (test/reference/llama2c.ts) over the same windows the engine plans. Also: no key without an observer, run.json,
 * a mismatched tokenizer refused up front, determinism, the shorter context of the two, and external weight files.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { planWindows } from '../../src/lm/windows.js';
import { scoreCorpus, type RunSummary, type ScoreOptions } from '../../src/score/score-corpus.js';
import { BOS_ID, Llama2cReference, Llama2cTokenizer, logSoftmax } from '../reference/llama2c.js';
import { makeSibling, STORIES_BIN, STORIES_DIR, withExternalData, type Sibling } from './sibling-model.js';

const TOK = join(import.meta.dirname, '..', 'fixtures', 'stories260k', 'tok512.bin');
const TINY_GPT2 = join(import.meta.dirname, '..', 'fixtures', 'tiny-gpt2');
const STORY = [
  'One day, a little bird sat on a tree. The bird sang a song. A boy heard the song and smiled.',
  'He wanted to sing too, so he sang with the bird all day long.',
  'Then his mom called him home for dinner. They ate soup and bread, and the boy told her about the bird.',
  'The next morning the bird was back on the tree, and the boy brought it some seeds.',
  'Lily and Tom went to the park to play on the swings. The sun was hot and the sky was blue.',
  'A big dog ran up to them and wagged its tail. Tom was scared, but Lily said the dog was nice.',
];
const TEXTS = [
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.',
  'Tom had a big red ball.',
  'The committee shall report its findings to the Senate no later than ninety days after enactment.',
  [...STORY, ...STORY, STORY[0]!].join(' '), // 523 ids with BOS: two windows of 512
];
const CONTEXT = 512;

type Row = Record<string, unknown> & { tokens: number; mean_nll: number; binoculars?: number };
const rows = (out: string): Row[] =>
  readFileSync(join(out, 'scores.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);
const work = mkdtempSync(join(tmpdir(), 'tailguard-binoculars-'));
const input = join(work, 'in.jsonl');
writeFileSync(input, TEXTS.map((text, i) => JSON.stringify({ id: `d${i}`, text })).join('\n') + '\n');
let n = 0;
const score = (over: Partial<ScoreOptions>): Promise<RunSummary> =>
  scoreCorpus({
    input,
    out: join(work, `out-${n++}`),
    model: STORIES_DIR,
    device: 'cpu',
    idField: 'id',
    threads: 1,
    ...over,
  });

let sibling: Sibling;
let withObserver: RunSummary;
let withObserverRows: Row[];

beforeAll(async () => {
  sibling = makeSibling({ seed: 11, noise: 0.3 });
  withObserver = await score({ observerModel: sibling.dir });
  withObserverRows = rows(withObserver.out);
});

/** Binoculars of `text` from float64 reference logits of both checkpoints, windows as the engine plans them. */
function referenceBinoculars(
  main: Llama2cReference,
  observer: Llama2cReference,
  ids: number[],
): { tokens: number; meanNll: number; binoculars: number } {
  let nll = 0,
    xent = 0,
    tokens = 0;
  for (const w of planWindows(ids.length, CONTEXT, CONTEXT / 2)) {
    const window = ids.slice(w.start, w.end);
    const p = main.forwardLogits(window);
    const q = observer.forwardLogits(window);
    for (let t = w.scoreFrom; t < w.end; t++) {
      const logp = logSoftmax(p[t - 1 - w.start]!);
      const logq = logSoftmax(q[t - 1 - w.start]!);
      nll -= logp[ids[t]!]!;
      for (let v = 0; v < logp.length; v++) xent -= Math.exp(logq[v]!) * logp[v]!;
      tokens++;
    }
  }
  return { tokens, meanNll: nll / tokens, binoculars: nll / xent };
}

describe('Binoculars with an observer model', () => {
  it('equals the float64 reference on every row, a windowed document included (1e-4 relative)', () => {
    const tok = Llama2cTokenizer.fromFile(TOK);
    const main = Llama2cReference.fromFile(STORIES_BIN);
    const observer = Llama2cReference.fromFile(sibling.bin);
    expect(withObserver.counts).toEqual({ input_rows: TEXTS.length, scored: TEXTS.length, errors: 0 });
    TEXTS.forEach((text, d) => {
      const ids = [BOS_ID, ...tok.encode(text)];
      const ref = referenceBinoculars(main, observer, ids);
      const row = withObserverRows[d]!;
      expect(row.tokens).toBe(ref.tokens);
      expect(Math.abs(row.mean_nll - ref.meanNll) / ref.meanNll).toBeLessThan(1e-4);
      expect(typeof row.binoculars).toBe('number');
      expect(Math.abs(row.binoculars! - ref.binoculars) / ref.binoculars).toBeLessThan(1e-4);
    });
    expect(withObserverRows[3]!.tokens).toBeGreaterThan(CONTEXT); // scored in two windows
    // A perturbed observer is not the scoring model: binoculars ≠ mean_nll / mean_entropy.
    const r0 = withObserverRows[0]! as Row & { mean_entropy: number };
    expect(Math.abs(r0.binoculars! - r0.mean_nll / r0.mean_entropy)).toBeGreaterThan(1e-3);
  });

  it('writes no binoculars key without an observer, and the other signals are the same with or without one', async () => {
    const plain = rows((await score({})).out);
    expect(plain).toHaveLength(TEXTS.length);
    plain.forEach((row, d) => {
      expect(row).not.toHaveProperty('binoculars');
      const { binoculars, ...rest } = withObserverRows[d]!;
      expect(typeof binoculars).toBe('number');
      expect(Object.keys(rest)).toEqual(Object.keys(row));
      for (const [k, v] of Object.entries(row)) {
        if (typeof v === 'number')
          expect(Math.abs((rest[k] as number) - v), k).toBeLessThan(1e-5 * Math.max(1, Math.abs(v)));
        else expect(rest[k], k).toEqual(v);
      }
    });
  });

  it('records the observer in run.json and in the run fingerprint', () => {
    const run = JSON.parse(readFileSync(join(withObserver.out, 'run.json'), 'utf8')) as RunSummary;
    expect(run.model.observer).toEqual({
      ref: sibling.dir,
      dir: sibling.dir,
      onnx: join(sibling.dir, 'onnx', 'model.onnx'),
    });
    expect(run.model.dir).toBe(STORIES_DIR);
    expect(run.options.observer_model).toBe(join(sibling.dir, 'onnx', 'model.onnx'));
    expect(run.options.context).toBe(CONTEXT);
  });

  it('gives identical rows when the same observer runs again', async () => {
    const again = await score({ observerModel: sibling.dir });
    expect(rows(again.out)).toEqual(withObserverRows);
  });

  it('refuses an observer with another tokenizer before scoring anything, naming it', async () => {
    const out = join(work, 'gpt2-observer');
    const run = scoreCorpus({ input, out, model: STORIES_DIR, observerModel: TINY_GPT2, device: 'cpu' });
    await expect(run).rejects.toBeInstanceOf(UsageError);
    await expect(run).rejects.toThrow(TINY_GPT2);
    expect(existsSync(join(out, 'scores.jsonl'))).toBe(false);
  });

  it('scores within the shorter context of the two models', async () => {
    const short = makeSibling({ seed: 11, noise: 0.3, seqLen: 256 });
    await expect(score({ observerModel: short.dir, context: 512 })).rejects.toThrow(/`context` must be in 2\.\.256/);
    const input1 = join(work, 'one.jsonl');
    writeFileSync(input1, `${JSON.stringify({ text: TEXTS[3] })}\n`);
    const summary = await score({ input: input1, observerModel: short.dir });
    expect(summary.options.context).toBe(256);
    expect(summary.options.stride).toBe(128);
    expect(rows(summary.out)[0]!.tokens).toBe(withObserverRows[3]!.tokens);
  });

  it("reads both models' external weight files, however alike their names", async () => {
    // Both graphs name their weights 'model.onnx_data': the observer's are keyed apart.
    const mainExt = withExternalData(STORIES_DIR);
    const observerExt = withExternalData(sibling.dir);
    const ext = rows((await score({ model: mainExt, observerModel: observerExt })).out);
    ext.forEach((row, d) => {
      expect(row.binoculars).toBe(withObserverRows[d]!.binoculars);
      expect(row.mean_nll).toBe(withObserverRows[d]!.mean_nll);
    });
  });
});
