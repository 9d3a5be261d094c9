/**
 * A tiny GPT-2 style byte-level BPE trainer (for the test fixture tokenizer): GPT-2's pre-tokenization regex,
 * bytes mapped to printable characters with GPT-2's bytes_to_unicode table, then greedy merges of the most frequent
 * adjacent pair (ties: lexicographically smallest "left right"), until `newTokens` new vocabulary entries exist.
 */

/** GPT-2's pre-tokenizer pattern (as in the ByteLevel pre-tokenizer with use_regex). */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's bytes_to_unicode: byte -> printable char; array order = GPT-2's base-vocabulary id order. */
export function bytesToUnicode(): { byteOrder: number[]; chars: Map<number, string> } {
  const bs: number[] = [];
  for (let c = 0x21; c <= 0x7e; c++) bs.push(c);
  for (let c = 0xa1; c <= 0xac; c++) bs.push(c);
  for (let c = 0xae; c <= 0xff; c++) bs.push(c);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const chars = new Map<number, string>();
  bs.forEach((b, i) => chars.set(b, String.fromCharCode(cs[i]!)));
  return { byteOrder: bs, chars };
}

export interface ByteBpe {
  /** token -> id: the 256 byte symbols (GPT-2 order), then merged tokens in merge order. */
  vocab: Map<string, number>;
  merges: [string, string][];
}

export function trainByteBpe(corpus: string, newTokens: number): ByteBpe {
  const { byteOrder, chars } = bytesToUnicode();
  const vocab = new Map<string, number>();
  for (const b of byteOrder) vocab.set(chars.get(b)!, vocab.size);
  const enc = new TextEncoder();
  const counts = new Map<string, number>();
  for (const m of corpus.matchAll(GPT2_PATTERN)) {
    const w = Array.from(enc.encode(m[0]), (b) => chars.get(b)!).join('');
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const words = [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([w, c]) => ({ syms: Array.from(w), count: c }));
  const merges: [string, string][] = [];
  const target = vocab.size + newTokens;
  while (vocab.size < target) {
    const pairCounts = new Map<string, number>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.syms.length; i++) {
        const key = `${w.syms[i]} ${w.syms[i + 1]}`;
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + w.count);
      }
    }
    let best: string | null = null;
    let bestCount = 0;
    for (const [k, c] of pairCounts) {
      if (c > bestCount || (c === bestCount && best !== null && k < best)) {
        best = k;
        bestCount = c;
      }
    }
    if (best === null) throw new Error(`corpus too small for ${newTokens} merges`);
    const [l, r] = best.split(' ') as [string, string];
    merges.push([l, r]);
    const merged = l + r;
    if (!vocab.has(merged)) vocab.set(merged, vocab.size);
    for (const w of words) {
      const out: string[] = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === l && w.syms[i + 1] === r) {
          out.push(merged);
          i++;
        } else out.push(w.syms[i]!);
      }
      w.syms = out;
    }
  }
  return { vocab, merges };
}
