/**
 * Exact search against a whole set for many queries at once: the radii of points no index search can be trusted for
 * (radii.ts), the brute-force sample that tunes each index's ef (ef-tuning.ts), recall checks. Squared distances of a
 * block of queries to every row come from ONNX Runtime's matrix product (dot-products.ts) as |x|² + |q|² − 2·x·q;
 * a pair is recomputed in float64 only where, within the product's float32 rounding, it may matter, and every other
 * pair is provably farther. So the results are those of a float64 loop over every pair, at the product's speed.
 */
import type { Neighbours } from '../hnsw/ann-index.js';
import { dotChunks, dotErrorBound } from './dot-products.js';
import { NearestLists } from '../hnsw/nearest-lists.js';
import { squaredDistance, type VectorSet } from '../vectors.js';

/** Queries per pass over the set (their rows stay in cache while the set's chunks stream by). */
export const QUERY_BLOCK = 256;

/**
 * Calls `visit(i, t, d)` (d: the float64 Euclidean distance) for every set row i and query t whose squared distance
 * may be below `queryBound2[t]` or `rowBound2(i)`; every pair not visited is farther than both. `visit` may lower
 * `queryBound2[t]` (as a k-NN list fills), and `rowBound2(i)` is asked again after each visit in row i. Pairs of a
 * row with itself (when the queries are rows of the set) are visited too.
 */
export async function scanNearPairs(
  set: VectorSet,
  queries: Float32Array,
  queryBound2: Float64Array,
  rowBound2: (i: number) => number,
  visit: (i: number, t: number, d: number) => void,
): Promise<void> {
  const { data, dim } = set;
  const norm = rowNorms(set.data, dim);
  const qNorm = rowNorms(queries, dim);
  const slack = 2 * dotErrorBound(dim);
  for (let b0 = 0; b0 < qNorm.length; b0 += QUERY_BLOCK) {
    const q = Math.min(QUERY_BLOCK, qNorm.length - b0);
    const block = queries.subarray(b0 * dim, (b0 + q) * dim);
    for await (const { start, rows, dots } of dotChunks(set, block)) {
      for (let r = 0; r < rows; r++) {
        const i = start + r;
        const ni = norm[i]!;
        let rowBound = rowBound2(i);
        for (let t = 0; t < q; t++) {
          const nq = qNorm[b0 + t]!;
          const lower = ni * ni + nq * nq - 2 * dots[r * q + t]! - slack * ni * nq;
          if (lower > queryBound2[b0 + t]! && lower > rowBound) continue;
          visit(i, b0 + t, Math.sqrt(squaredDistance(data, i, block, t, dim)));
          rowBound = rowBound2(i);
        }
      }
    }
  }
}

/** The k nearest rows of `set` to each query (rows of set.dim floats), exactly; ties keep the lower row. */
export async function exactNeighbours(set: VectorSet, queries: Float32Array, k: number): Promise<Neighbours[]> {
  const q = queries.length / set.dim;
  const kk = Math.min(k, set.ids.length);
  if (!kk) return Array.from({ length: q }, () => ({ ids: [], distances: [] }));
  const lists = new NearestLists(q, kk);
  const bound = new Float64Array(q).fill(Infinity);
  await scanNearPairs(
    set,
    queries,
    bound,
    () => -Infinity,
    (i, t, d) => {
      lists.insert(t, i, d);
      bound[t] = lists.kth(t) ** 2;
    },
  );
  return Array.from({ length: q }, (_, t) => lists.neighbours(t));
}

/** Euclidean norm of each row. */
function rowNorms(data: Float32Array, dim: number): Float64Array {
  const norms = new Float64Array(data.length / dim);
  for (let i = 0; i < norms.length; i++) {
    let s = 0;
    for (let j = i * dim; j < (i + 1) * dim; j++) s += data[j]! * data[j]!;
    norms[i] = Math.sqrt(s);
  }
  return norms;
}
