import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter, type RawLine } from '../../src/io/line-splitter.js';

function split(input: Uint8Array, chunkSizes: number[], max = 1 << 20): RawLine[] {
  const s = new LineSplitter(max);
  const out: RawLine[] = [];
  let off = 0;
  let i = 0;
  while (off < input.length) {
    const n = Math.max(1, chunkSizes[i++ % chunkSizes.length]!);
    out.push(...s.push(input.subarray(off, off + n)));
    off += n;
  }
  out.push(...s.end());
  return out;
}

const text = (l: RawLine) => (l.bytes ? Buffer.from(l.bytes).toString('latin1') : `<too long ${l.length}>`);

describe('LineSplitter', () => {
  it('splits on \\n, strips one trailing \\r, numbers lines from 1', () => {
    const lines = split(Buffer.from('a\r\n\nb\r\r\nc'), [3]);
    expect(lines.map(text)).toEqual(['a', '', 'b\r', 'c']);
    expect(lines.map((l) => l.line)).toEqual([1, 2, 3, 4]);
  });

  it('does not invent an empty last line after a final newline', () => {
    expect(split(Buffer.from('x\ny\n'), [1]).map(text)).toEqual(['x', 'y']);
    expect(split(Buffer.from(''), [1])).toEqual([]);
  });

  it('gives the same lines whatever the chunking (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', '\n', '\r', 'é'), { maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 5 }),
        (parts, sizes) => {
          const input = Buffer.from(parts.join(''), 'latin1');
          const whole = split(input, [input.length || 1]).map(text);
          expect(split(input, sizes).map(text)).toEqual(whole);
          // Reference: String.split semantics.
          const ref = parts
            .join('')
            .split('\n')
            .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
          if (parts.join('').endsWith('\n') || parts.length === 0) ref.pop();
          expect(whole).toEqual(ref);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reports an over-long line without buffering it, then carries on', () => {
    const input = Buffer.from(`short\n${'x'.repeat(100)}\nafter\n${'y'.repeat(50)}`);
    for (const sizes of [[7], [1000], [3, 17]]) {
      const s = new LineSplitter(20);
      const out: RawLine[] = [];
      let off = 0;
      let i = 0;
      while (off < input.length) {
        const n = sizes[i++ % sizes.length]!;
        out.push(...s.push(input.subarray(off, off + n)));
        off += n;
        expect(s.bufferedBytes).toBeLessThanOrEqual(20);
      }
      out.push(...s.end());
      expect(out.map(text)).toEqual(['short', '<too long 100>', 'after', '<too long 50>']);
      expect(out.map((l) => l.line)).toEqual([1, 2, 3, 4]);
      expect(s.peakBufferedBytes).toBeLessThanOrEqual(20);
    }
  });

  it('keeps a line of exactly the cap', () => {
    expect(split(Buffer.from('abcd\nabcde\n'), [2], 4).map(text)).toEqual(['abcd', '<too long 5>']);
  });
});
