/** Jacobi eigendecomposition: a hand-checked 3×3 and the reconstruction A = V Λ Vᵀ with orthonormal V. */
import { describe, expect, it } from 'vitest';
import { symmetricEigen } from '../../src/stats/symmetric-eigen.js';
import { mulberry32 } from '../../src/random.js';

describe('symmetricEigen', () => {
  it('[[2,1,0],[1,2,0],[0,0,5]]: eigenvalues 5, 3, 1 with eigenvectors e3, (1,1,0)/√2, (1,−1,0)/√2', () => {
    const { values, vectors } = symmetricEigen([2, 1, 0, 1, 2, 0, 0, 0, 5], 3);
    expect(Array.from(values)).toEqual([expect.closeTo(5, 12), expect.closeTo(3, 12), expect.closeTo(1, 12)]);
    const col = (c: number) => [0, 1, 2].map((r) => vectors[r * 3 + c]!);
    const s = Math.SQRT1_2;
    // Up to sign.
    const sameLine = (u: number[], v: number[]) => Math.abs(u.reduce((a, x, i) => a + x * v[i]!, 0));
    expect(sameLine(col(0), [0, 0, 1])).toBeCloseTo(1, 12);
    expect(sameLine(col(1), [s, s, 0])).toBeCloseTo(1, 12);
    expect(sameLine(col(2), [s, -s, 0])).toBeCloseTo(1, 12);
  });

  it('reconstructs a random symmetric 12×12 matrix from orthonormal eigenvectors, eigenvalues sorted', () => {
    const d = 12;
    const rng = mulberry32(7);
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) a[i * d + j] = a[j * d + i] = rng() * 2 - 1;
    const { values, vectors: v } = symmetricEigen(a, d);
    for (let i = 1; i < d; i++) expect(values[i]!).toBeLessThanOrEqual(values[i - 1]!);
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) {
        let vtv = 0;
        let rec = 0;
        for (let c = 0; c < d; c++) {
          vtv += v[c * d + i]! * v[c * d + j]!;
          rec += v[i * d + c]! * values[c]! * v[j * d + c]!;
        }
        expect(vtv).toBeCloseTo(i === j ? 1 : 0, 10);
        expect(rec).toBeCloseTo(a[i * d + j]!, 10);
      }
    // The trace is the sum of the eigenvalues.
    let tr = 0;
    for (let i = 0; i < d; i++) tr += a[i * d + i]!;
    expect(values.reduce((x, y) => x + y, 0)).toBeCloseTo(tr, 10);
  });
});
