/**
 * How many bytes of the document's UTF-8 text each token stands for, read off tokenizer.json, so per-token scores
 * can be placed back on the text (sentence-level signals, spans) without re-tokenizing.
 *   byte-level BPE (ByteLevel pre-tokenizer or decoder): a token is a string of bytes_to_unicode characters, one per byte;
 *   sentencepiece-style BPE: "<0xNN>" is one byte, otherwise the piece with "▁" read as a space, in UTF-8;
 *   special (added) tokens: 0.
 * With a sentencepiece dummy prefix ("▁" prepended to the text), the first token carries one byte that is not in
 * the text. `placeTokens` checks that the lengths add up to the text's bytes and returns null when they do not
 * (a normalizer that rewrote the text, say): callers then leave text-positioned signals out rather than guess.
 */
import { bytesToUnicodeInverse } from './byte-level.js';

export interface TokenByteTable {
  lengths: Int32Array;
  dummyPrefix: boolean;
}

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number> | [string, number][] };
  added_tokens?: { id: number; content: string }[];
  pre_tokenizer?: unknown;
  decoder?: unknown;
  normalizer?: unknown;
}

const mentions = (node: unknown, type: string): boolean => JSON.stringify(node ?? null).includes(`"type":"${type}"`);

export function tokenByteTable(json: TokenizerJson, dummyPrefix: boolean): TokenByteTable | null {
  const vocab = json.model?.vocab;
  if (!vocab || Array.isArray(vocab)) return null;
  const byteLevel = mentions(json.pre_tokenizer, 'ByteLevel') || mentions(json.decoder, 'ByteLevel');
  const inverse = byteLevel ? bytesToUnicodeInverse() : null;
  const enc = new TextEncoder();
  let size = 0;
  for (const id of Object.values(vocab)) size = Math.max(size, id + 1);
  for (const t of json.added_tokens ?? []) size = Math.max(size, t.id + 1);
  const lengths = new Int32Array(size).fill(-1);
  for (const [piece, id] of Object.entries(vocab)) {
    if (inverse) {
      let n = 0;
      for (const ch of piece) n += inverse.has(ch) ? 1 : enc.encode(ch).length;
      lengths[id] = n;
    } else {
      lengths[id] = /^<0x[0-9A-Fa-f]{2}>$/.test(piece) ? 1 : enc.encode(piece.replace(/▁/g, ' ')).length;
    }
  }
  for (const t of json.added_tokens ?? []) lengths[t.id] = 0;
  return { lengths, dummyPrefix };
}

/**
 * Byte offset where each token of `ids` ends in `text` (ids[0] is the document-start token: its end is 0), or
 * null when the tokens do not add up to the text.
 */
export function placeTokens(table: TokenByteTable, ids: ArrayLike<number>, text: string): Int32Array | null {
  const ends = new Int32Array(ids.length);
  let pos = table.dummyPrefix ? -1 : 0;
  for (let t = 1; t < ids.length; t++) {
    const n = table.lengths[ids[t]!] ?? -1;
    if (n < 0) return null;
    pos += n;
    ends[t] = Math.max(0, pos);
  }
  const textBytes = Buffer.byteLength(text, 'utf8');
  return ids.length > 1 && pos === textBytes ? ends : null;
}
