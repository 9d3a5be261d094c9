/**
 * The exact passes' dot products (ONNX Runtime MatMul, chunk by chunk) against a float64 loop, within the error bound
 * the passes screen with; and the exact pass itself: with every point unreachable, every radius is brute force's.
 */
import { describe, expect, it } from 'vitest';
import { AnnIndex } from '../../src/coverage/ann-index.js';
import { dotChunks, dotErrorBound } from '../../src/coverage/dot-products.js';
import { exactRadii, knnRadii } from '../../src/coverage/radii.js';
import { sharedVectors, subset } from '../../src/coverage/vectors.js';
import { blobs } from './synthetic.js';

const set = blobs(300, [1, 1, 1], 5, { dim: 24, centresSeed: 7, centreScale: 1, spread: 0.3 });

describe('dot products for exact search', () => {
  it('covers every row once, in order, across chunks, within the stated rounding bound (shared memory too)', async () => {
    const queryRows = [0, 17, 299, 150, 3];
    const queries = subset(set, queryRows).data;
    const q = queryRows.length;
    const seen: number[] = [];
    let worst = 0;
    for await (const { start, rows, dots } of dotChunks(sharedVectors(set), queries, 37)) {
      expect(dots).toHaveLength(rows * q);
      for (let r = 0; r < rows; r++) {
        seen.push(start + r);
        for (let t = 0; t < q; t++) {
          let exact = 0;
          let na = 0;
          let nb = 0;
          for (let j = 0; j < set.dim; j++) {
            const a = set.data[(start + r) * set.dim + j]!;
            const b = queries[t * set.dim + j]!;
            exact += a * b;
            na += a * a;
            nb += b * b;
          }
          const err = Math.abs(dots[r * q + t]! - exact);
          expect(err).toBeLessThanOrEqual(dotErrorBound(set.dim) * Math.sqrt(na * nb));
          worst = Math.max(worst, err);
        }
      }
    }
    expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(worst).toBeGreaterThan(0); // float32 sums: the bound is there for a reason
  });

  it('no queries or no rows: nothing', async () => {
    const chunks = [];
    for await (const c of dotChunks(set, new Float32Array(0))) chunks.push(c);
    for await (const c of dotChunks(subset(set, []), subset(set, [1]).data)) chunks.push(c);
    expect(chunks).toEqual([]);
  });

  it('an index that reaches no point: every radius by the exact pass, equal to brute force to the last bit', async () => {
    // Every query lands on the farthest points, never on the point itself: all 300 are unreachable (two blocks).
    const lost = (index: AnnIndex): AnnIndex => Object.assign(Object.create(index) as AnnIndex, {
      knn: (query: number[], kk: number) => {
        const far = index.knn(query.map((x) => -x), kk);
        return { ids: far.ids.filter((_, t) => far.distances[t]! > 0), distances: far.distances.map((d) => d + 1) };
      },
      reinsert: () => undefined,
    });
    const k = 5;
    const radii = await knnRadii(set, lost(AnnIndex.build(set)), k);
    expect(radii.unreachable).toHaveLength(300);
    expect(Array.from(radii.radii)).toEqual(Array.from(exactRadii(set, k)));
  });
});
