/**
 * Signals that need each token's place in the text (lm/token-bytes.ts): how the LM's surprise varies along the
 * document. Tokens are 1..n of a document (0 is the start token); token t covers the text up to its end offset.
 *
 *   sentence_nll_sd  population standard deviation, over the document's sentences (text-signals.ts), of the mean
 *                    NLL of the tokens whose last character lies in the sentence (nats); 0 with fewer than two
 *                    sentences holding tokens. Machine text tends to be evenly predictable; human text is bursty.
 *   spans            consecutive windows of `window` tokens (the last may be shorter), each with its text range
 *                    [start, end) in UTF-16 offsets, token count, mean_nll and Fast-DetectGPT statistic
 *                    (Σ log p + Σ H) / sqrt(Σ Var), so a reviewer sees which part reads as generated.
 */
import { sentenceRanges } from './text-signals.js';

export interface TokenTrack {
  /** UTF-16 offset in the text where token t ends (index 0: the start token, 0). */
  endChar: Int32Array;
  /** log p(token t | prefix), entropy H_t and Var_t[log p], for t = 1..n (index 0 unused). */
  logp: ArrayLike<number>;
  entropy: ArrayLike<number>;
  variance: ArrayLike<number>;
}

export interface PositionedSignals {
  sentence_nll_sd: number | null;
  spans?: Span[] | null;
}

export interface Span {
  start: number;
  end: number;
  tokens: number;
  mean_nll: number;
  fast_detect: number;
}

/** UTF-16 offsets for ascending UTF-8 byte offsets of `text`; an offset inside a character maps to its end. */
export function charOffsets(text: string, byteOffsets: ArrayLike<number>): Int32Array {
  const out = new Int32Array(byteOffsets.length);
  let bytes = 0;
  let i = 0;
  for (let k = 0; k < byteOffsets.length; k++) {
    const target = byteOffsets[k]!;
    while (bytes < target && i < text.length) {
      const cp = text.codePointAt(i)!;
      bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      i += cp >= 0x10000 ? 2 : 1;
    }
    out[k] = i;
  }
  return out;
}

export function sentenceNllSd(text: string, track: TokenTrack): number {
  const ranges = sentenceRanges(text);
  const sum = new Float64Array(ranges.length);
  const count = new Int32Array(ranges.length);
  let s = 0;
  for (let t = 1; t < track.endChar.length; t++) {
    const last = track.endChar[t]! - 1; // the token's last character
    while (s < ranges.length && ranges[s]![1] <= last) s++;
    if (s === ranges.length) break;
    if (last < ranges[s]![0]) continue; // whitespace between sentences
    sum[s] = sum[s]! - track.logp[t]!;
    count[s] = count[s]! + 1;
  }
  const means: number[] = [];
  for (let i = 0; i < ranges.length; i++) if (count[i]! > 0) means.push(sum[i]! / count[i]!);
  if (means.length < 2) return 0;
  const mean = means.reduce((a, b) => a + b, 0) / means.length;
  return Math.sqrt(means.reduce((a, m) => a + (m - mean) ** 2, 0) / means.length);
}

export function spans(track: TokenTrack, window: number): Span[] {
  const out: Span[] = [];
  const n = track.endChar.length - 1;
  for (let from = 1; from <= n; from += window) {
    const to = Math.min(n, from + window - 1);
    let logp = 0;
    let entropy = 0;
    let variance = 0;
    for (let t = from; t <= to; t++) {
      logp += track.logp[t]!;
      entropy += track.entropy[t]!;
      variance += track.variance[t]!;
    }
    const tokens = to - from + 1;
    out.push({
      start: track.endChar[from - 1]!,
      end: track.endChar[to]!,
      tokens,
      mean_nll: -logp / tokens,
      fast_detect: variance > 0 ? (logp + entropy) / Math.sqrt(variance) : 0,
    });
  }
  return out;
}
