/**
 * Shallow per-document text signals for spotting machine-written text; no language model needed.
 *
 *   word tokens  = maximal runs of [\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)* (flags gu), lowercased with toLowerCase():
 *                  "Don't stop" → [don't, stop]; "e-mail" → [e, mail]
 *   sentences    = the text split at every whitespace run that follows one of . ! ? … (optionally followed by
 *                  closing quotes/brackets ” ’ " ' ) ]) and at every blank line (\n\s*\n); pieces trimmed, and
 *                  pieces with no word token dropped. No abbreviation handling: "Mr. Smith" is two sentences.
 *                  Splits happen only at whitespace, so sentence lengths sum to `words`.
 *   chars        = number of Unicode code points (not UTF-16 units)
 *   words        = n, the number of word tokens
 *   sentences    = s, the number of sentences
 *   sentence_length_mean = mean(L), L = words per sentence (= n / s; 0 when s = 0)
 *   burstiness   = sd(L) / mean(L), population sd (coefficient of variation); 0 when s < 2
 *   ttr          = distinct word tokens / n  (0 when n = 0)
 *   mattr        = (1/(n−W+1)) Σ_{i=0}^{n−W} distinct(w_i..w_{i+W−1}) / W, window W (default 50);
 *                  equals ttr when n < W. Computed in O(n) with a sliding count map. W must be a positive
 *                  integer (RangeError otherwise).
 *   word_entropy = −Σ_w p(w) log2 p(w), p(w) = count(w) / n, in bits  (0 when n = 0)
 *   gzip_ratio   = gzipSync(utf8, level 9) bytes / utf8 bytes  (0 for empty text). Includes gzip's ~18-byte
 *                  header and trailer, so very short texts can exceed 1.
 */
import { gzipSync } from 'node:zlib';

export interface TextSignals {
  chars: number;
  words: number;
  sentences: number;
  sentence_length_mean: number;
  burstiness: number;
  ttr: number;
  mattr: number;
  word_entropy: number;
  gzip_ratio: number;
}

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu;
const SENTENCE_BREAK_ALL = /(?<=[.!?…][”’"')\]]*)\s+|\n\s*\n/gu;

export function wordTokens(text: string): string[] {
  return Array.from(text.matchAll(WORD), (m) => m[0].toLowerCase());
}

/** [start, end) UTF-16 offsets of the sentences of `text` (the pieces splitSentences returns). */
export function sentenceRanges(text: string): [number, number][] {
  const out: [number, number][] = [];
  const push = (from: number, to: number) => {
    const piece = text.slice(from, to);
    const lead = piece.length - piece.trimStart().length;
    const trail = piece.length - piece.trimEnd().length;
    if (lead < piece.length && wordTokens(piece).length > 0) out.push([from + lead, to - trail]);
  };
  let from = 0;
  for (const m of text.matchAll(SENTENCE_BREAK_ALL)) {
    push(from, m.index);
    from = m.index + m[0].length;
  }
  push(from, text.length);
  return out;
}

export function splitSentences(text: string): string[] {
  return sentenceRanges(text).map(([a, b]) => text.slice(a, b));
}

/** Word → occurrences. */
export function counts(words: readonly string[]): Map<string, number> {
  const c = new Map<string, number>();
  for (const w of words) c.set(w, (c.get(w) ?? 0) + 1);
  return c;
}

function burstiness(lengths: readonly number[]): number {
  if (lengths.length < 2) return 0;
  const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
  const variance = lengths.reduce((a, l) => a + (l - mean) ** 2, 0) / lengths.length;
  return Math.sqrt(variance) / mean;
}

/** Shannon entropy in bits of a frequency table with total n (0 when n = 0). */
export function entropyBits(c: ReadonlyMap<string, number>, n: number): number {
  if (n === 0) return 0;
  let h = 0;
  for (const k of c.values()) h -= (k / n) * Math.log2(k / n);
  return h;
}

function mattr(words: readonly string[], w: number, ttr: number): number {
  const n = words.length;
  if (n < w) return ttr;
  const window = counts(words.slice(0, w));
  let sum = window.size;
  for (let i = w; i < n; i++) {
    const out = words[i - w] as string;
    const left = (window.get(out) ?? 0) - 1;
    if (left === 0) window.delete(out);
    else window.set(out, left);
    const inw = words[i] as string;
    window.set(inw, (window.get(inw) ?? 0) + 1);
    sum += window.size;
  }
  return sum / (n - w + 1) / w;
}

function gzipRatio(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length === 0 ? 0 : gzipSync(bytes, { level: 9 }).length / bytes.length;
}

export function textSignals(text: string, opts: { mattrWindow?: number } = {}): TextSignals {
  const w = opts.mattrWindow ?? 50;
  if (!Number.isInteger(w) || w < 1) throw new RangeError(`mattrWindow must be a positive integer, got ${w}`);
  const words = wordTokens(text);
  const n = words.length;
  const lengths = splitSentences(text).map((s) => wordTokens(s).length);
  const c = counts(words);
  const ttr = n === 0 ? 0 : c.size / n;
  return {
    chars: [...text].length,
    words: n,
    sentences: lengths.length,
    sentence_length_mean: lengths.length === 0 ? 0 : lengths.reduce((a, b) => a + b, 0) / lengths.length,
    burstiness: burstiness(lengths),
    ttr,
    mattr: mattr(words, w, ttr),
    word_entropy: entropyBits(c, n),
    gzip_ratio: gzipRatio(text),
  };
}
