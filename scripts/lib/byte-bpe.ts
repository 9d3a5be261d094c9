/**
 * GPT-2 style byte-level BPE: GPT-2's pre-tokenization regex, bytes mapped to printable characters with GPT-2's
 * bytes_to_unicode table, then greedy merges of the most frequent adjacent pair (ties: the lexicographically
 * smallest "left right"), until `newTokens` new vocabulary entries exist. Used for the test fixture (tiny-gpt2) and
 * for the reference LM's 8k tokenizer (scripts/train-lm), so it keeps pair counts incrementally: each merge only
 * revisits the words that contain the merged pair.
 */

import { bytesToUnicode } from '../../src/lm/byte-level.js';

export { bytesToUnicode };

/** GPT-2's pre-tokenizer pattern (as in the ByteLevel pre-tokenizer with use_regex). */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export interface ByteBpe {
  /** token -> id: the 256 byte symbols (GPT-2 order), then merged tokens in merge order. */
  vocab: Map<string, number>;
  merges: [string, string][];
}

/** Pre-tokenized word counts (words in bytes_to_unicode characters); feed text in as many calls as you like. */
export class WordCounter {
  readonly counts = new Map<string, number>();
  private readonly chars = bytesToUnicode().chars;
  private readonly enc = new TextEncoder();

  add(text: string): void {
    for (const m of text.matchAll(GPT2_PATTERN)) {
      const w = Array.from(this.enc.encode(m[0]), (b) => this.chars.get(b)!).join('');
      this.counts.set(w, (this.counts.get(w) ?? 0) + 1);
    }
  }
}

const PAIR_SHIFT = 2 ** 21;
const pairKey = (a: number, b: number): number => a * PAIR_SHIFT + b;

/** A max-heap of (count, pair) with lazy deletion: stale entries are skipped when popped. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  constructor(private readonly before: (c1: number, k1: number, c2: number, k2: number) => boolean) {}
  get size(): number {
    return this.counts.length;
  }
  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(this.counts[i]!, this.keys[i]!, this.counts[p]!, this.keys[p]!)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0]!, this.keys[0]!];
    const lastC = this.counts.pop()!;
    const lastK = this.keys.pop()!;
    if (this.counts.length > 0) {
      this.counts[0] = lastC;
      this.keys[0] = lastK;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.counts.length && this.before(this.counts[l]!, this.keys[l]!, this.counts[m]!, this.keys[m]!))
          m = l;
        if (r < this.counts.length && this.before(this.counts[r]!, this.keys[r]!, this.counts[m]!, this.keys[m]!))
          m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j]!, this.counts[i]!];
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
  }
}

export function trainByteBpe(corpus: string | WordCounter, newTokens: number): ByteBpe {
  const counter = typeof corpus === 'string' ? new WordCounter() : corpus;
  if (typeof corpus === 'string') counter.add(corpus);
  const { byteOrder, chars } = bytesToUnicode();
  const symbols: string[] = [];
  const symbolId = new Map<string, number>();
  const intern = (s: string): number => {
    let id = symbolId.get(s);
    if (id === undefined) {
      id = symbols.length;
      symbols.push(s);
      symbolId.set(s, id);
    }
    return id;
  };
  const vocab = new Map<string, number>();
  for (const b of byteOrder) {
    vocab.set(chars.get(b)!, vocab.size);
    intern(chars.get(b)!);
  }
  const words = [...counter.counts.entries()].map(([w, count]) => ({ ids: Array.from(w, intern), count }));
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const pairName = (key: number): string => `${symbols[Math.floor(key / PAIR_SHIFT)]} ${symbols[key % PAIR_SHIFT]}`;
  const heap = new PairHeap((c1, k1, c2, k2) => c1 > c2 || (c1 === c2 && pairName(k1) < pairName(k2)));
  const countWord = (w: number, sign: 1 | -1, touched: Set<number>): void => {
    const { ids, count } = words[w]!;
    for (let i = 0; i + 1 < ids.length; i++) {
      const key = pairKey(ids[i]!, ids[i + 1]!);
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * count);
      touched.add(key);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  const initial = new Set<number>();
  words.forEach((_, w) => countWord(w, 1, initial));
  for (const key of initial) heap.push(pairCount.get(key)!, key);

  const merges: [string, string][] = [];
  const target = vocab.size + newTokens;
  while (vocab.size < target) {
    let best: number | null = null;
    while (heap.size > 0) {
      const [count, key] = heap.pop();
      if (count > 0 && pairCount.get(key) === count) {
        best = key;
        break;
      }
    }
    if (best === null) throw new Error(`corpus too small for ${newTokens} merges`);
    const a = Math.floor(best / PAIR_SHIFT);
    const b = best % PAIR_SHIFT;
    const merged = symbols[a]! + symbols[b]!;
    merges.push([symbols[a]!, symbols[b]!]);
    if (!vocab.has(merged)) vocab.set(merged, vocab.size);
    const c = intern(merged);
    const touched = new Set<number>();
    for (const w of [...(pairWords.get(best) ?? [])]) {
      countWord(w, -1, touched);
      const ids = words[w]!.ids;
      const out: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
          out.push(c);
          i++;
        } else out.push(ids[i]!);
      }
      words[w]!.ids = out;
      countWord(w, 1, touched);
    }
    pairWords.delete(best);
    for (const key of touched) {
      const n = pairCount.get(key)!;
      if (n > 0) heap.push(n, key);
      else pairCount.delete(key);
    }
  }
  return { vocab, merges };
}

/** The Hugging Face files of a GPT-2 style byte-level BPE with one special token (document separator). */
export function byteLevelTokenizerFiles(
  bpe: ByteBpe,
  special: string,
  modelMaxLength: number,
): Record<string, unknown> {
  const specialId = bpe.vocab.size;
  const vocab = Object.fromEntries([...bpe.vocab.entries(), [special, specialId]]);
  const st = { content: special, lstrip: false, normalized: true, rstrip: false, single_word: false };
  return {
    'tokenizer.json': {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [
        {
          id: specialId,
          content: special,
          single_word: false,
          lstrip: false,
          rstrip: false,
          normalized: true,
          special: true,
        },
      ],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: '',
        end_of_word_suffix: '',
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab,
        merges: bpe.merges,
      },
    },
    'tokenizer_config.json': {
      add_bos_token: false,
      add_prefix_space: false,
      added_tokens_decoder: { [String(specialId)]: { ...st, special: true } },
      bos_token: special,
      clean_up_tokenization_spaces: false,
      eos_token: special,
      errors: 'replace',
      model_max_length: modelMaxLength,
      pad_token: null,
      tokenizer_class: 'GPT2Tokenizer',
      unk_token: special,
    },
    'special_tokens_map.json': { bos_token: st, eos_token: st, unk_token: st },
  };
}
