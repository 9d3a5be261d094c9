/**
 * Exact search by matrix products: the dot products (ONNX Runtime MatMul, chunk by chunk) against a float64 loop,
 * within the error bound the search screens with; its k-NN lists against a float64 loop over every pair, query by
 * query; and the radii's exact pass: with every point unreachable, every radius is brute force's.
 */
import { describe, expect, it } from 'vitest';
import { AnnIndex, exactKnn } from '../../src/coverage/hnsw/ann-index.js';
import { dotChunks, dotErrorBound } from '../../src/coverage/exact/dot-products.js';
import { exactNeighbours } from '../../src/coverage/exact/exact-search.js';
import { exactRadii, knnRadii } from '../../src/coverage/hnsw/radii.js';
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

  it("k nearest of many queries (two blocks) equal a float64 loop's, ties and copies included; k above the set size", async () => {
    const withCopies = subset(set, [...Array.from({ length: 300 }, (_, i) => i), 4, 4, 10]);
    const queries = subset(withCopies, [...Array.from({ length: 290 }, (_, i) => i), 4, 301, 10, 10]).data;
    const got = await exactNeighbours(withCopies, queries, 7);
    expect(got).toHaveLength(294);
    got.forEach((nb, t) =>
      expect(nb).toEqual(exactKnn(withCopies, queries.subarray(t * set.dim, (t + 1) * set.dim), 7)),
    );
    const few = subset(set, [0, 1, 2]);
    expect(await exactNeighbours(few, subset(set, [5]).data, 10)).toEqual([exactKnn(few, subset(set, [5]).data, 10)]);
    expect((await exactNeighbours(few, subset(set, [5]).data, 10))[0]!.ids).toHaveLength(3);
    expect(await exactNeighbours(subset(set, []), subset(set, [5, 6]).data, 3)).toEqual([
      { ids: [], distances: [] },
      { ids: [], distances: [] },
    ]);
  });

  it('an index that reaches no point: every radius by the exact pass, equal to brute force to the last bit', async () => {
    // Every query lands on the farthest points, never on the point itself: all 300 are unreachable (two blocks).
    const lost = (index: AnnIndex): AnnIndex =>
      Object.assign(Object.create(index) as AnnIndex, {
        knn: (query: number[], kk: number) => {
          const far = index.knn(
            query.map((x) => -x),
            kk,
          );
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
