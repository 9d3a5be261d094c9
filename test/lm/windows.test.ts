import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planWindows } from '../../src/lm/windows.js';

describe('planWindows', () => {
  it('uses one window when the document fits the context', () => {
    expect(planWindows(10, 16, 8)).toEqual([{ start: 0, end: 10, scoreFrom: 1 }]);
    expect(planWindows(16, 16, 8)).toEqual([{ start: 0, end: 16, scoreFrom: 1 }]);
  });

  it('slides full-length windows that score only new tokens (hand-checked)', () => {
    // 25 positions, context 10, stride 4: [0,10) scores 1..9; [4,14) scores 10..13; [8,18) 14..17;
    // [12,22) 18..21; [15,25) 22..24 (the last window is still full length, so more left context).
    expect(planWindows(25, 10, 4)).toEqual([
      { start: 0, end: 10, scoreFrom: 1 },
      { start: 4, end: 14, scoreFrom: 10 },
      { start: 8, end: 18, scoreFrom: 14 },
      { start: 12, end: 22, scoreFrom: 18 },
      { start: 15, end: 25, scoreFrom: 22 },
    ]);
  });

  it('has nothing to score without a document token', () => {
    expect(planWindows(1, 8, 4)).toEqual([]);
  });

  it('scores every token exactly once with at least context-stride left context', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 3000 }),
        fc.integer({ min: 2, max: 300 }),
        fc.integer({ min: 1, max: 299 }),
        (n, context, strideRaw) => {
          const stride = 1 + (strideRaw % (context - 1));
          const windows = planWindows(n, context, stride);
          const seen = new Uint8Array(n);
          let ok = true;
          for (const w of windows) {
            ok &&= w.end - w.start <= context && w.start >= 0 && w.scoreFrom > w.start;
            // Left context of the first token scored (the least of the window's): positions start..scoreFrom-1.
            if (w.start > 0) ok &&= w.scoreFrom - w.start >= context - stride;
            for (let t = w.scoreFrom; t < w.end; t++) seen[t]! += 1;
          }
          expect(ok).toBe(true);
          expect(seen[0]).toBe(0);
          expect(seen.subarray(1).every((c) => c === 1)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects a stride that would skip tokens', () => {
    expect(() => planWindows(100, 10, 10)).toThrow(RangeError);
    expect(() => planWindows(100, 10, 0)).toThrow(RangeError);
  });
});
