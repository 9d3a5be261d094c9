import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeUtf8Strict, firstInvalidUtf8 } from '../../src/io/utf8.js';

const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
function fatalAccepts(bytes: Uint8Array): boolean {
  try {
    fatal.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

describe('utf8', () => {
  it('decodes valid text and keeps a BOM', () => {
    const r = decodeUtf8Strict(Buffer.from('\uFEFFcafé ✓ 𝄞'));
    expect(r).toEqual({ ok: true, text: '\uFEFFcafé ✓ 𝄞' });
  });

  it.each([
    ['stray continuation', [0x61, 0x80], 1],
    ['overlong', [0x61, 0x62, 0xc0, 0xaf], 2],
    ['surrogate', [0xed, 0xa0, 0x80], 0],
    ['above U+10FFFF', [0x41, 0xf4, 0x90, 0x80, 0x80], 1],
    ['truncated at end', [0x41, 0x42, 0x43, 0xe2, 0x9c], 3],
    ['bad second byte', [0xe2, 0x41, 0x80], 0],
    ['0xFF', [0x20, 0xff], 1],
  ])('finds the offset of %s', (_name, bytes, offset) => {
    const u8 = Uint8Array.from(bytes);
    expect(firstInvalidUtf8(u8)).toBe(offset);
    expect(decodeUtf8Strict(u8)).toEqual({ ok: false, offset });
  });

  it('agrees with TextDecoder fatal mode on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        expect(firstInvalidUtf8(bytes) === -1).toBe(fatalAccepts(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it('is valid up to the reported offset (a prefix ending there decodes)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 20 }),
        fc.uint8Array({ minLength: 1, maxLength: 4 }),
        (s, junk) => {
          const bytes = Buffer.concat([Buffer.from(s), junk]);
          const off = firstInvalidUtf8(bytes);
          if (off >= 0) expect(fatalAccepts(bytes.subarray(0, off))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
