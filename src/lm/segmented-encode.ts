/**
 * Tokenizing a long document in pieces. BPE tokenizers without a pre-tokenizer (Llama/sentencepiece
 * style) treat a whole document as one word, and @huggingface/tokenizers then needs ~330 MB per MB of
 * text; pieces of a few tens of KB keep memory flat whatever the document's size.
 *
 * Pieces are cut at a single space between a non-space character and a letter, where no token can
 * span the cut. How the cut text continues depends on the tokenizer:
 *   - a normalizer that prepends "▁" (sentencepiece's dummy prefix) turns "x y" into "▁x▁y": the next
 *     piece drops the space and the prefix stands in for it;
 *   - otherwise (byte-level BPE and the like) the next piece keeps its leading space.
 * The rule is checked on sample text when the tokenizer loads; where it does not hold, documents are
 * tokenized whole.
 */
export type CutRule = 'drop-space' | 'keep-space';

export const SEGMENT_CHARS = 32_768;

/** Sentencepiece-style dummy prefix in a tokenizer.json normalizer. */
export function cutRuleFor(tokenizerJson: Record<string, unknown>): CutRule {
  const prepends = (n: unknown): boolean => {
    if (!n || typeof n !== 'object') return false;
    const o = n as { type?: string; prepend?: string; normalizers?: unknown[] };
    return (
      (o.type === 'Prepend' && o.prepend === '▁') || (o.type === 'Sequence' && (o.normalizers ?? []).some(prepends))
    );
  };
  return prepends(tokenizerJson.normalizer) ? 'drop-space' : 'keep-space';
}

const isSafeCut = (text: string, i: number): boolean =>
  text[i] === ' ' && /\S/.test(text[i - 1] ?? '') && /\p{L}/u.test(text[i + 1] ?? '');

/**
 * Positions of the spaces where the text is cut, about every `maxChars`: the last safe cut before the
 * limit, or, in a stretch without one (a long run of CJK, say), the first safe cut after it.
 */
export function cutPoints(text: string, maxChars = SEGMENT_CHARS): number[] {
  const cuts: number[] = [];
  let from = 0;
  while (text.length - from > maxChars) {
    let i = from + maxChars;
    while (i > from + 1 && !isSafeCut(text, i)) i--;
    if (i <= from + 1) {
      i = from + maxChars + 1;
      while (i < text.length - 1 && !isSafeCut(text, i)) i++;
      if (i >= text.length - 1) break; // no safe cut in the rest: it stays whole
    }
    cuts.push(i);
    from = i + 1;
  }
  return cuts;
}

export function encodeInPieces(
  text: string,
  encode: (s: string) => Int32Array,
  rule: CutRule,
  maxChars = SEGMENT_CHARS,
): Int32Array {
  const cuts = cutPoints(text, maxChars);
  if (cuts.length === 0) return encode(text);
  const parts: Int32Array[] = [];
  let start = 0;
  for (const cut of [...cuts, text.length]) {
    const from = start === 0 ? 0 : rule === 'drop-space' ? start + 1 : start;
    parts.push(encode(text.slice(from, cut)));
    start = cut;
  }
  const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const PROBE =
  'The quick brown fox jumps over the lazy dog, and then it ran away into the woods. Once upon a time there was a little girl named Lily who loved to play outside.';

/** True when cutting with `rule` reproduces whole-text tokenization on a probe text cut at every safe point. */
export function cutRuleHolds(encode: (s: string) => Int32Array, rule: CutRule): boolean {
  const whole = encode(PROBE);
  for (const size of [7, 13, 29, 41]) {
    const pieces = encodeInPieces(PROBE, encode, rule, size);
    if (pieces.length !== whole.length || pieces.some((v, i) => v !== whole[i])) return false;
  }
  return true;
}
