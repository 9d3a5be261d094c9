/**
 * scripts/lib/byte-bpe.ts (the reference LM's tokenizer trainer): hand-checked merges, the incremental trainer equal
 * to a naive recount-everything reference, and a converted model directory that takes its tokenizer from it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { convertLlama2c } from '../../scripts/convert-llama2c.js';
import {
  byteLevelTokenizerFiles,
  bytesToUnicode,
  GPT2_PATTERN,
  trainByteBpe,
  WordCounter,
} from '../../scripts/lib/byte-bpe.js';
import { writeJson } from '../../scripts/lib/files.js';
import { readModelSpec } from '../../src/lm/model-config.js';
import { loadTokenizer } from '../../src/lm/tokenizer.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The textbook algorithm: recount every pair after every merge. */
function naiveMerges(corpus: string, newTokens: number): [string, string][] {
  const { chars } = bytesToUnicode();
  const counts = new Map<string, number>();
  for (const m of corpus.matchAll(GPT2_PATTERN)) {
    const w = Array.from(new TextEncoder().encode(m[0]), (b) => chars.get(b)!).join('');
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const words = [...counts].map(([w, c]) => ({ syms: Array.from(w), c }));
  const vocab = new Set(chars.values());
  const merges: [string, string][] = [];
  while (vocab.size < 256 + newTokens) {
    const pairs = new Map<string, number>();
    for (const w of words)
      for (let i = 0; i + 1 < w.syms.length; i++)
        pairs.set(`${w.syms[i]} ${w.syms[i + 1]}`, (pairs.get(`${w.syms[i]} ${w.syms[i + 1]}`) ?? 0) + w.c);
    let best: string | null = null;
    for (const [k, c] of pairs)
      if (best === null || c > pairs.get(best)! || (c === pairs.get(best)! && k < best)) best = k;
    if (best === null) throw new Error('too small');
    const [l, r] = best.split(' ') as [string, string];
    merges.push([l, r]);
    vocab.add(l + r);
    for (const w of words) {
      const out: string[] = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === l && w.syms[i + 1] === r) {
          out.push(l + r);
          i++;
        } else out.push(w.syms[i]!);
      }
      w.syms = out;
    }
  }
  return merges;
}

describe('trainByteBpe', () => {
  it('hand-checked: "aaab aaab" merges (a,a) [4 pairs], then (a,b) over (aa,a) on the tie, "a b" < "aa a"', () => {
    expect(trainByteBpe('aaab aaab', 2).merges).toEqual([
      ['a', 'a'],
      ['a', 'b'],
    ]);
  });

  it('equals the naive recount-everything trainer', () => {
    const alphabet = fc.constantFrom('a', 'b', 'c', ' ', 'é', '\n', '.', "'s", 'ab');
    fc.assert(
      fc.property(
        fc.array(alphabet, { minLength: 20, maxLength: 120 }),
        fc.integer({ min: 1, max: 12 }),
        (parts, merges) => {
          const text = parts.join('');
          let want: [string, string][];
          try {
            want = naiveMerges(text, merges);
          } catch {
            return; // corpus too small for that many merges
          }
          expect(trainByteBpe(text, merges).merges).toEqual(want);
        },
      ),
      { numRuns: 150, seed: 7 },
    );
  });

  it('feeding text in several calls counts the same words as one call', () => {
    const a = new WordCounter();
    a.add('It was the best of times, ');
    a.add('it was the worst of times.');
    expect(trainByteBpe(a, 20)).toEqual(trainByteBpe('It was the best of times, it was the worst of times.', 20));
  });
});

describe('a converted model with a byte-level BPE tokenizer directory (--tokenizer)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-bpe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('copies the tokenizer, sets BOS/EOS to <|endoftext|>, and the engine encodes as the tokenizer library does', () => {
    // stories260K has a 512-entry vocabulary: 256 bytes + 255 merges + <|endoftext|>.
    const text = readFileSync(join(ROOT, 'examples', 'sample.jsonl'), 'utf8');
    const bpe = trainByteBpe(text, 255);
    for (const [name, value] of Object.entries(byteLevelTokenizerFiles(bpe, '<|endoftext|>', 512)))
      writeJson(join(dir, 'tok', name), value);
    const out = join(dir, 'model');
    const res = convertLlama2c({
      bin: join(ROOT, 'test/fixtures/stories260k/stories260K.bin'),
      tokenizerDir: join(dir, 'tok'),
      out,
      card: false,
    });
    expect(res.files).toContain('model.safetensors');
    expect(res.files).not.toContain('README.md');
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect([config.bos_token_id, config.eos_token_id]).toEqual([511, 511]);
    const tok = loadTokenizer(out, readModelSpec(out));
    expect(tok.documentStartId).toBe(511);
    const json = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8'));
    const lib = new Tokenizer(json, JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')));
    const sample = 'Tom had a big red ball. He threw it to his dog!';
    expect(Array.from(tok.encode(sample))).toEqual(lib.encode(sample, { add_special_tokens: false }).ids);
    expect(lib.decode(Array.from(tok.encode(sample)))).toBe(sample);
  });

  it('refuses a tokenizer whose size differs from the checkpoint vocabulary', () => {
    const bpe = trainByteBpe('a small text, a small text.', 3);
    for (const [name, value] of Object.entries(byteLevelTokenizerFiles(bpe, '<|endoftext|>', 512)))
      writeJson(join(dir, 'small', name), value);
    expect(() =>
      convertLlama2c({
        bin: join(ROOT, 'test/fixtures/stories260k/stories260K.bin'),
        tokenizerDir: join(dir, 'small'),
        out: join(dir, 'm2'),
      }),
    ).toThrow(/260 entries, the checkpoint's vocabulary 512/);
  });
});
