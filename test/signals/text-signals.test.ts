import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/random.js';
import { splitSentences, textSignals, wordTokens } from '../../src/signals/text-signals.js';

/** Per-window recount: the definition of MATTR, O(n·W). */
function naiveMattr(words: string[], w: number): number {
  if (words.length === 0) return 0;
  if (words.length < w) return new Set(words).size / words.length;
  let sum = 0;
  for (let i = 0; i + w <= words.length; i++) sum += new Set(words.slice(i, i + w)).size / w;
  return sum / (words.length - w + 1);
}

/** Deterministic bytes (the low byte of each mulberry32 output) so the gzip bound does not depend on a random draw. */
function pseudoRandomBytes(n: number, seed: number): Buffer {
  const rng = mulberry32(seed);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rng() * 4294967296) & 0xff;
  return out;
}

describe('wordTokens', () => {
  it('keeps inner apostrophes, splits on hyphens, lowercases', () => {
    expect(wordTokens("Don't stop")).toEqual(["don't", 'stop']);
    expect(wordTokens('e-mail')).toEqual(['e', 'mail']);
    expect(wordTokens('It’s ÉTÉ 2024, ok?')).toEqual(['it’s', 'été', '2024', 'ok']);
    expect(wordTokens("'quoted' rock'n'roll")).toEqual(['quoted', "rock'n'roll"]);
  });
});

describe('splitSentences', () => {
  it('splits after terminators followed by whitespace, and at blank lines', () => {
    expect(splitSentences('The cat sat. The cat ran away quickly!')).toEqual([
      'The cat sat.',
      'The cat ran away quickly!',
    ]);
    expect(splitSentences('Really?! Yes… "Fine." (Done.) Next')).toEqual([
      'Really?!',
      'Yes…',
      '"Fine."',
      '(Done.)',
      'Next',
    ]);
    expect(splitSentences('A heading\n\nBody text here')).toEqual(['A heading', 'Body text here']);
  });

  it('does not split inside numbers or without following whitespace, and drops wordless pieces', () => {
    expect(splitSentences('Pi is 3.14 today.')).toEqual(['Pi is 3.14 today.']);
    expect(splitSentences('One. ... !!! Two.  ')).toEqual(['One.', 'Two.']);
  });

  it('does not handle abbreviations: "Mr. Smith" splits', () => {
    expect(splitSentences('Mr. Smith left.')).toEqual(['Mr.', 'Smith left.']);
  });
});

describe('textSignals', () => {
  it('matches hand-checked values', () => {
    const s = textSignals('The cat sat. The cat ran away quickly!');
    expect(s.sentences).toBe(2);
    expect(s.words).toBe(8);
    expect(s.sentence_length_mean).toBe(4); // lengths 3 and 5
    expect(s.burstiness).toBeCloseTo(0.25, 12); // population sd of [3, 5] is 1; 1 / 4
    expect(s.ttr).toBe(0.75); // 6 distinct / 8
    expect(s.mattr).toBe(0.75); // 8 words < default window 50 → ttr
    // the:2, cat:2, sat, ran, away, quickly:1 → −(2·¼·log2 ¼ + 4·⅛·log2 ⅛) = 1 + 1.5
    expect(s.word_entropy).toBeCloseTo(2.5, 12);
    expect(s.chars).toBe(38);
  });

  it('computes MATTR over sliding windows (hand-checked)', () => {
    // windows [a a] = 0.5, [a b] = 1, [b b] = 0.5 → 2/3
    expect(textSignals('a a b b', { mattrWindow: 2 }).mattr).toBeCloseTo(2 / 3, 12);
    expect(textSignals('a a b b', { mattrWindow: 4 }).mattr).toBe(0.5); // one window = ttr
    expect(textSignals('a a b b', { mattrWindow: 5 }).mattr).toBe(0.5); // n < W → ttr
    expect(textSignals('a b c', { mattrWindow: 1 }).mattr).toBe(1);
  });

  it('O(n) MATTR equals a per-window recount on random texts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'G', 'A'), { maxLength: 200 }),
        fc.integer({ min: 1, max: 30 }),
        (ws, w) => {
          const text = ws.join(' ');
          const got = textSignals(text, { mattrWindow: w }).mattr;
          expect(got).toBeCloseTo(naiveMattr(wordTokens(text), w), 12);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects a non-positive or fractional window', () => {
    expect(() => textSignals('a b', { mattrWindow: 0 })).toThrow(RangeError);
    expect(() => textSignals('a b', { mattrWindow: 2.5 })).toThrow(RangeError);
  });

  it('gives zeros and no NaN for empty or whitespace-only text', () => {
    for (const text of ['', '   \n\n\t ', '... !!!']) {
      const s = textSignals(text);
      for (const v of Object.values(s)) expect(Number.isFinite(v)).toBe(true);
      expect(s.words).toBe(0);
      expect(s.sentences).toBe(0);
      expect(s.ttr).toBe(0);
      expect(s.mattr).toBe(0);
      expect(s.word_entropy).toBe(0);
      expect(s.burstiness).toBe(0);
      expect(s.sentence_length_mean).toBe(0);
    }
    expect(textSignals('').gzip_ratio).toBe(0);
    expect(textSignals('').chars).toBe(0);
  });

  it('gives finite values for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        for (const v of Object.values(textSignals(text, { mattrWindow: 5 }))) expect(Number.isFinite(v)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('gives 0 burstiness for one sentence or equal-length sentences', () => {
    expect(textSignals('Just one sentence here').burstiness).toBe(0);
    expect(textSignals('Two words. Two more.').burstiness).toBe(0);
  });

  it('compresses repetitive text far better than random text', () => {
    expect(textSignals('abc '.repeat(1000)).gzip_ratio).toBeLessThan(0.05);
    const b64 = pseudoRandomBytes(3000, 42).toString('base64');
    expect(b64.length).toBe(4000);
    expect(textSignals(b64).gzip_ratio).toBeGreaterThan(0.7);
  });

  it('counts Unicode code points, not UTF-16 units', () => {
    expect('héllo 👋'.length).toBe(8);
    expect(textSignals('héllo 👋').chars).toBe(7);
  });
});
