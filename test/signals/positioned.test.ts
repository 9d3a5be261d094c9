/** Signals placed on the text: token byte offsets, sentence NLL spread, spans (and their agreement with the row). */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readModelSpec } from '../../src/lm/model-config.js';
import { loadTokenizer } from '../../src/lm/tokenizer.js';
import { scoreCorpus } from '../../src/score/score-corpus.js';
import { charOffsets, sentenceNllSd, spans, type TokenTrack } from '../../src/signals/positioned.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MODELS = {
  stories260k: join(ROOT, 'models', 'stories260k'),
  'tiny-gpt2': join(ROOT, 'test', 'fixtures', 'tiny-gpt2'),
};

describe('charOffsets', () => {
  it('maps UTF-8 byte offsets to UTF-16 offsets (é is 2 bytes, 👋 is 4 bytes and 2 UTF-16 units)', () => {
    // "héllo 👋!": h(1) é(2) l l o ' ' 👋(4) !  -> byte ends 1,3,4,5,6,7,11,12
    expect(Array.from(charOffsets('héllo 👋!', [0, 1, 3, 7, 11, 12]))).toEqual([0, 1, 2, 6, 8, 9]);
    expect(Array.from(charOffsets('héllo', [2]))).toEqual([2]); // inside é: its end
  });
});

describe('token placement, for a sentencepiece and a byte-level tokenizer', () => {
  for (const [name, dir] of Object.entries(MODELS)) {
    it(`${name}: the pieces between consecutive token ends rebuild the text`, () => {
      const tok = loadTokenizer(dir, readModelSpec(dir));
      fc.assert(
        fc.property(
          fc.array(fc.constantFrom('Tom', ' had', ' a', ' ball.', ' é', '👋', '\n', '  ', 'ü', 'x', ' 42'), {
            minLength: 1,
            maxLength: 30,
          }),
          (parts) => {
            const text = parts.join('');
            const ids = [tok.documentStartId, ...tok.encode(text)];
            const ends = tok.placeTokens(ids, text);
            expect(ends).not.toBeNull();
            const chars = charOffsets(text, ends!);
            expect(chars[chars.length - 1]).toBe(text.length);
            for (let t = 1; t < chars.length; t++) expect(chars[t]!).toBeGreaterThanOrEqual(chars[t - 1]!);
          },
        ),
        { numRuns: 100, seed: 3 },
      );
    });
  }
});

describe('sentenceNllSd and spans, hand-checked', () => {
  // "Aa bb. Cc dd." : sentences [0,6) and [7,13); tokens end at chars 2, 6, 9, 13.
  const track: TokenTrack = {
    endChar: Int32Array.from([0, 2, 6, 9, 13]),
    logp: [0, -1, -3, -2, -2],
    entropy: [0, 1, 1, 1, 1],
    variance: [0, 1, 1, 2, 0],
  };
  it('sentence means 2 and 2 → sd 0; 1 and 3 → sd 1', () => {
    expect(sentenceNllSd('Aa bb. Cc dd.', track)).toBe(0);
    expect(sentenceNllSd('Aa bb. Cc dd.', { ...track, logp: [0, -1, -1, -3, -3] })).toBe(1);
    expect(sentenceNllSd('One sentence only here.', { ...track, endChar: Int32Array.from([0, 3, 12, 17, 23]) })).toBe(
      0,
    );
  });
  it('spans of 3 tokens: ranges, mean NLL and the Fast-DetectGPT statistic per window', () => {
    expect(spans(track, 3)).toEqual([
      { start: 0, end: 9, tokens: 3, mean_nll: 2, fast_detect: (-6 + 3) / Math.sqrt(4) },
      { start: 9, end: 13, tokens: 1, mean_nll: 2, fast_detect: 0 },
    ]);
  });
});

describe('score --spans', () => {
  it("spans tile the text and their token-weighted NLL is the row's mean_nll", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-spans-'));
    const texts = [
      'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.',
      'Tom had a big red ball. He threw it to his dog! The dog ran after it, very fast, and brought it back.',
    ];
    writeFileSync(join(dir, 'in.jsonl'), texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
    await scoreCorpus({
      input: join(dir, 'in.jsonl'),
      out: join(dir, 'o'),
      model: 'stories260k',
      device: 'cpu',
      spans: 8,
    });
    const rows = readFileSync(join(dir, 'o', 'scores.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    rows.forEach((row, i) => {
      const sp = row.spans as { start: number; end: number; tokens: number; mean_nll: number }[];
      expect(sp[sp.length - 1]!.end).toBe(texts[i]!.length);
      for (let k = 1; k < sp.length; k++) expect(sp[k]!.start).toBe(sp[k - 1]!.end);
      expect(sp.reduce((a, s) => a + s.tokens, 0)).toBe(row.tokens);
      expect(sp.reduce((a, s) => a + s.tokens * s.mean_nll, 0) / row.tokens).toBeCloseTo(row.mean_nll, 9);
      expect(row.sentence_nll_sd).toBeGreaterThan(0);
    });
  });
});
