/**
 * models/stories260k/tokenizer.json (written by scripts/convert-llama2c.ts) loaded with @huggingface/tokenizers must
 * reproduce llama2.c's run.c encode() (test/reference/llama2c.ts) exactly, and decode back to the text.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Llama2cTokenizer } from '../reference/llama2c.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODEL = join(ROOT, 'models/stories260k');
const tokenizerJson = JSON.parse(readFileSync(`${MODEL}/tokenizer.json`, 'utf8')) as Record<string, unknown>;
const tokenizerConfig = JSON.parse(readFileSync(`${MODEL}/tokenizer_config.json`, 'utf8')) as Record<string, unknown>;
const hf = new Tokenizer(tokenizerJson, tokenizerConfig);
const ref = Llama2cTokenizer.fromFile(join(ROOT, 'test/fixtures/stories260k/tok512.bin'));

const hfIds = (text: string): number[] => hf.encode(text, { add_special_tokens: false }).ids;

const TEXTS: string[] = [
  // children's stories
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.',
  'Tom and his dog Max went to the park. They played with a red ball all day!',
  '"Can I have a cookie?" asked Ben. Mom smiled and said, "Yes, but only one."',
  'The sun was shining. The birds were singing. Sue was happy, and she wanted to share her toys.',
  // adult prose
  'The Federal Reserve raised interest rates by 25 basis points on Wednesday, citing persistent inflation.',
  'Notwithstanding the foregoing, the licensee shall indemnify the licensor against all third-party claims.',
  'Quantum chromodynamics describes the strong interaction between quarks and gluons.',
  'Epistemologically speaking, the hermeneutic circle undermines any claim to presuppositionless interpretation.',
  // punctuation, digits
  'Wait... what?! (No way); [yes] {maybe} <tag> | ~ ` ^ _ = + * & % $ # @ \\ /',
  'It’s John’s—no, Mary’s—book: “quoted” ‘single’ … – — ™ €',
  'In 1999, 42% of 3,141 people paid $19.99 for 2.5 kg.',
  '0123456789 3.14159 -273.15 1e-5 0x1F',
  'Call 555-0199 at 10:30pm, or email someone@example.com.',
  // accented letters
  'Café déjà vu, naïve façade, crème brûlée, Ångström, São Paulo, Dvořák.',
  'El niño pequeño comió mañana; über Straße, Größe.',
  'e\u0301 (combining accent) vs é (precomposed)',
  // emoji / CJK / other scripts (byte fallback)
  'I love 🍕 and 🎉!',
  '日本語のテキスト',
  '中文测试，好的。',
  '한국어 문장',
  'Привет, мир',
  '👨‍👩‍👧‍👦 family',
  'مرحبا بالعالم',
  // whitespace
  ' leading space',
  'trailing space ',
  '  two leading spaces',
  'multiple   spaces   inside',
  '   ',
  ' ',
  'tabs\tand\ttabs',
  '\u00a0no-break\u00a0spaces\u200ahair',
  // newlines
  'line one\nline two',
  '\n\nstarts with newlines',
  'ends with newline\n',
  'windows\r\nline endings',
  'Paragraph one.\n\nParagraph two.\n',
  // tiny
  'a',
  '.',
  'é',
  '😀',
  // long
  'Once upon a time, there was a big bear. '.repeat(20).trim(),
];

describe('llama2c tokenizer.json vs run.c encode (reference)', () => {
  it('covers the texts it should', () => {
    expect(TEXTS.length).toBeGreaterThanOrEqual(36);
  });

  it.each(TEXTS.map((t) => [JSON.stringify(t).slice(0, 60), t]))('encode %s', (_label, text) => {
    const want = ref.encode(text);
    expect(hfIds(text)).toEqual(want);
    expect(ref.vocab[want[0]!]!.startsWith(' ')).toBe(true); // dummy prefix (possibly merged)
  });

  it.each(TEXTS.map((t) => [JSON.stringify(t).slice(0, 60), t]))('decode %s', (_label, text) => {
    expect(hf.decode(hfIds(text))).toBe(text);
    expect(ref.decode(ref.encode(text))).toBe(text);
  });

  it('exercises byte fallback and merges', () => {
    const cjk = hfIds('中');
    expect(cjk.slice(1)).toEqual(Array.from(new TextEncoder().encode('中'), (b) => b + 3));
    expect(hfIds('Once upon a time')).toEqual([403, 407, 261, 378]); // " Once" " upon" " a" " time"
  });

  it('empty text gives no tokens (no dummy prefix), as run.c', () => {
    expect(hfIds('')).toEqual([]);
    expect(ref.encode('')).toEqual([]);
  });

  it('add_special_tokens: true prepends BOS only', () => {
    const ids = hf.encode('Hello', { add_special_tokens: true }).ids;
    expect(ids).toEqual([1, ...ref.encode('Hello')]);
  });

  it('matches on random mixtures of pieces, characters and arbitrary unicode', () => {
    const pieces = ref.vocab.slice(259);
    const piece = fc.constantFrom(...pieces);
    const char = fc.constantFrom(...pieces.flatMap((p) => Array.from(p)), '\n', '\t', '中', '😀', 'ß', '\u0301', '  ');
    const text = fc
      .array(
        fc.oneof(
          { arbitrary: piece, weight: 5 },
          { arbitrary: char, weight: 4 },
          { arbitrary: fc.string({ unit: 'grapheme', maxLength: 3 }), weight: 1 },
        ),
        { maxLength: 30 },
      )
      .map((parts) => parts.join(''))
      // Known, intended divergences (see the test below): special-token text and a literal ▁.
      .filter((t) => !/<unk>|<s>|<\/s>|\u2581/.test(t));
    fc.assert(
      fc.property(text, (t) => {
        expect(hfIds(t)).toEqual(ref.encode(t));
        if (t.length > 0) expect(hf.decode(hfIds(t))).toBe(t);
      }),
      { numRuns: 1500, seed: 42 },
    );
  });

  it('documents the divergences from run.c: special-token text and a literal ▁', () => {
    // HF splits added tokens out of the raw text; run.c spells them with ordinary pieces.
    expect(hfIds('a <s> b')).toContain(1);
    expect(ref.encode('a <s> b')).not.toContain(1);
    // HF's normalizer cannot tell a literal U+2581 from a space; run.c byte-falls it back.
    expect(hfIds('\u2581')).toEqual(hfIds(' '));
    expect(ref.encode('\u2581')).not.toEqual(ref.encode(' '));
  });
});
