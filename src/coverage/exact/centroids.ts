/**
 * Each row's nearest k-means centroid (the report's regions, clusters.ts) from the tiles of exact search: the two
 * smallest float32 distances per row (tiles.ts), and where the rounding bound cannot tell the first from the second,
 * clusters.ts's own float64 loop. Contract: the result equals nearestCentroid's for every row (the first centroid
 * of the smallest float64 distance), so k-means and the regions come out bit for bit as without the tiles, in a
 * fraction of the time at high dimension (10k × 32 centroids × 1000-d: a float64 loop over 3·10⁸ products a round).
 */
import { nearestCentroid, type Clustering } from '../clusters.js';
import { centredSquares, type TileRunner } from './tiles.js';

/** Per row array: its centre (the rows' mean) and squared norms less it, kept while k-means asks again with the same rows. */
const prepared = new WeakMap<
  Float32Array,
  { centre: Float32Array; sq: Float32Array; sq64: Float64Array; maxSq: number }
>();

function rowsPrepared(data: Float32Array, dim: number) {
  let p = prepared.get(data);
  if (!p) {
    const mean = new Float64Array(dim);
    const n = data.length / dim;
    for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j]! += data[i * dim + j]!;
    const centre = Float32Array.from(mean, (s) => s / Math.max(1, n));
    const sq64 = centredSquares(data, dim, centre);
    p = { centre, sq: Float32Array.from(sq64), sq64, maxSq: sq64.reduce((a, b) => Math.max(a, b), 0) };
    prepared.set(data, p);
  }
  return p;
}

export async function nearestCentroids(
  runner: TileRunner,
  data: Float32Array,
  c: Clustering,
  tile = 2048,
): Promise<Int32Array> {
  const { dim, k } = c;
  const n = data.length / dim;
  const out = new Int32Array(n);
  if (k <= 1 || n === 0) return out;
  // Both sides less the rows' mean (the distances are the same; the rounding smaller). Rows in shared memory are
  // copied (onnxruntime-node takes none).
  const rows = data.buffer instanceof SharedArrayBuffer ? data.slice() : data;
  const p = rowsPrepared(data, dim);
  const csq = centredSquares(c.centroids, dim, p.centre);
  const maxSq = Math.max(
    p.maxSq,
    csq.reduce((a, b) => Math.max(a, b), 0),
  );
  const y = { data: c.centroids, centre: p.centre, sq: Float32Array.from(csq), count: k };
  const E = runner.errorScale(dim);
  for (let start = 0; start < n; start += tile) {
    const count = Math.min(tile, n - start);
    const x = {
      data: rows.subarray(start * dim, (start + count) * dim),
      centre: p.centre,
      sq: p.sq.subarray(start, start + count),
      count,
    };
    const found = await runner.smallest(x, y, dim, 2);
    for (let r = 0; r < count; r++) {
      const v1 = found.rowValues[2 * r]!;
      const v2 = found.rowValues[2 * r + 1]!;
      // Every other centroid is at least v2 less half the bound, the first at most v1 plus it: a gap over it settles it.
      out[start + r] =
        v2 - v1 > E * (p.sq64[start + r]! + maxSq) ? found.rowIds[2 * r]! : nearestCentroid(c, data, start + r);
    }
  }
  return out;
}
