/**
 * A GPT-2-family stock export (optimum layout: attention_mask, position_ids, empty past_key_values,
 * <|endoftext|> as document start, no hidden-state output) through the whole scoring pipeline,
 * against an independent float64 GPT-2 forward pass. Its 64-position context forces windowing.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../src/io/npy-writer.js';
import { planWindows } from '../../src/lm/windows.js';
import { scoreCorpus } from '../../src/score/score-corpus.js';
import { Gpt2Reference } from '../reference/gpt2.js';
import { logSoftmax } from '../reference/llama2c.js';

const MODEL = join(import.meta.dirname, '..', 'fixtures', 'tiny-gpt2');
const TEXTS = [
  'The cat sat on the mat.',
  'A much longer document about the weather, the sea and the hills, written so that it runs well past the sixty-four positions of this tiny model and has to be scored in overlapping windows, every token once.',
  'Hi',
];

describe('GPT-2 family model', () => {
  it('scores per-document NLL as the reference does, windows included (1e-4)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-gpt2-'));
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, TEXTS.map((text) => JSON.stringify({ text })).join('\n'));
    const stride = 20;
    const summary = await scoreCorpus({ input, out: join(dir, 'out'), model: MODEL, device: 'cpu', stride });
    expect(summary.counts.errors).toBe(0);
    expect(summary.model.model_type).toBe('gpt2');
    const rows = readFileSync(join(dir, 'out', 'scores.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));

    const ref = Gpt2Reference.fromDir(MODEL);
    const tok = new Tokenizer(JSON.parse(readFileSync(join(MODEL, 'tokenizer.json'), 'utf8')), {});
    const eot = tok.token_to_id('<|endoftext|>')!;
    TEXTS.forEach((text, d) => {
      const ids = [eot, ...tok.encode(text, { add_special_tokens: false }).ids];
      let nll = 0;
      for (const w of planWindows(ids.length, ref.config.nPositions, stride)) {
        const logits = ref.forwardLogits(ids.slice(w.start, w.end));
        for (let t = w.scoreFrom; t < w.end; t++) nll -= logSoftmax(logits[t - 1 - w.start]!)[ids[t]!]!;
      }
      expect(rows[d].tokens).toBe(ids.length - 1);
      expect(Math.abs(rows[d].mean_nll - nll / (ids.length - 1))).toBeLessThan(1e-4);
    });
    expect(rows[1].tokens).toBeGreaterThan(64);
    const emb = readNpy(join(dir, 'out', 'embeddings.npy'));
    expect(emb.shape).toEqual([3, 32]);
  });
});
