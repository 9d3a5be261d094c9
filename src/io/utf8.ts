/**
 * Strict UTF-8 decoding that reports *where* the input went wrong.
 *
 * Why: a lenient decoder silently turns bad bytes into U+FFFD, and the model
 * would then score text that never existed in the corpus. We reject such rows
 * instead, and the byte offset in the reason lets a user find the damage.
 */

// One decoder is enough: decode() without {stream: true} keeps no state between calls.
// ignoreBOM: true keeps a U+FEFF that is part of the content; callers strip a
// leading BOM themselves where a BOM is legitimately a file marker.
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export type Utf8Result = { ok: true; text: string } | { ok: false; offset: number };

/** Decode `bytes`, or give the offset of the first byte of the first invalid sequence. */
export function decodeUtf8Strict(bytes: Uint8Array): Utf8Result {
  try {
    return { ok: true, text: strictDecoder.decode(bytes) };
  } catch {
    // TextDecoder does not say where it failed; find it ourselves (slow path, bad rows only).
    const offset = firstInvalidUtf8(bytes);
    return { ok: false, offset: offset < 0 ? 0 : offset };
  }
}

/**
 * Offset of the first byte that starts an ill-formed UTF-8 sequence, or -1.
 * Follows the Unicode "well-formed UTF-8" table (no overlongs, no surrogates, max U+10FFFF),
 * which is exactly what TextDecoder's fatal mode rejects.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number; // continuation bytes after the lead
    let lo = 0x80; // allowed range of the *first* continuation byte
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b === 0xe0) {
      need = 2;
      lo = 0xa0;
    } else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) need = 2;
    else if (b === 0xed) {
      need = 2;
      hi = 0x9f;
    } // excludes UTF-16 surrogates
    else if (b === 0xf0) {
      need = 3;
      lo = 0x90;
    } else if (b >= 0xf1 && b <= 0xf3) need = 3;
    else if (b === 0xf4) {
      need = 3;
      hi = 0x8f;
    } // nothing above U+10FFFF
    else return i; // 0x80..0xC1 (stray continuation / overlong lead) or 0xF5..0xFF
    if (i + need >= n) return i; // sequence cut off by the end of the input
    const c1 = bytes[i + 1]!;
    if (c1 < lo || c1 > hi) return i;
    for (let k = 2; k <= need; k++) {
      const c = bytes[i + k]!;
      if (c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}
