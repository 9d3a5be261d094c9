import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { cutPoints, cutRuleFor, cutRuleHolds, encodeInPieces } from '../../src/lm/segmented-encode.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SAMPLE = readFileSync(join(ROOT, 'examples', 'sample.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l).text as string)
  .join('\n\n');

describe.each([
  ['llama (sentencepiece, dummy prefix)', join(ROOT, 'models', 'stories260k'), 'drop-space'],
  ['gpt2 (byte-level)', join(ROOT, 'test', 'fixtures', 'tiny-gpt2'), 'keep-space'],
])('piecewise tokenization, %s', (_name, dir, expectedRule) => {
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  const tok = new Tokenizer(json, JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')));
  const encode = (s: string) => Int32Array.from(tok.encode(s, { add_special_tokens: false }).ids);
  const rule = cutRuleFor(json);

  it('picks the cut rule of the tokenizer and finds that it holds', () => {
    expect(rule).toBe(expectedRule);
    expect(cutRuleHolds(encode, rule)).toBe(true);
  });

  it('gives exactly the whole-text tokens on a long real text', () => {
    const text = SAMPLE.slice(0, 60_000);
    expect(cutPoints(text, 4000).length).toBeGreaterThan(5);
    expect(Array.from(encodeInPieces(text, encode, rule, 4000))).toEqual(Array.from(encode(text)));
  });

  it('gives exactly the whole-text tokens for any cut size (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: SAMPLE.length - 3000 }),
        fc.integer({ min: 20, max: 400 }),
        (start, size) => {
          const text = SAMPLE.slice(start, start + 3000);
          const pieces = encodeInPieces(text, encode, rule, size);
          const whole = encode(text);
          return pieces.length === whole.length && pieces.every((v, i) => v === whole[i]);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('cutPoints', () => {
  it('cuts only at a space between a non-space and a letter, and keeps text without such a space whole', () => {
    const text = 'aaaa bbbb  cccc 1234 dddd';
    for (const c of cutPoints(text, 6)) {
      expect(text[c]).toBe(' ');
      expect(text[c - 1]).toMatch(/\S/);
      expect(text[c + 1]).toMatch(/\p{L}/u);
    }
    expect(cutPoints('x'.repeat(100), 10)).toEqual([]);
  });

  it('goes on cutting after a long stretch with no safe cut', () => {
    const text = `${'漢'.repeat(500)} and then plenty of ordinary words follow here`;
    const cuts = cutPoints(text, 20);
    expect(cuts[0]).toBe(500);
    expect(cuts.length).toBeGreaterThan(1);
  });
});
