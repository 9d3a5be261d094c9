/**
 * k-NN radii of an indexed set: the distance from each point to its k-th nearest other point of the same set (the
 * balls of Naeem et al.'s metrics, prdc.ts).
 *
 * Each self-query asks for 4(k+1) points (the search's cost is set by ef, not by how many it returns) and offers the
 * querying point to the lists of all it returns: a search from a point's own position can miss neighbours whose own
 * searches find it. Asking for more than k+1 matters because the relation is not symmetric: in high dimension many
 * points are among the k nearest of few others.
 *
 * HNSW leaves a few points poorly linked (~0.2% in clustered 256-d data): a query, even from the point's own
 * position, never reaches them. Left alone, such a point gets a radius far too large (its query lands in another
 * region; one such ball can hold thousands of points) and is missing from its neighbours' lists (their radii too
 * large). So: a query from an indexed point must return the point itself. Those that do not are re-inserted (hnswlib
 * relinks them) and queried again; then searched for with a much wider candidate list (`WIDE_EF`), which reaches
 * nearly all of the rest: they take their own list from that search and their place in the lists of the points it
 * returned. The few still unreachable are handled by exact search — their own radius, and their place in every other
 * point's list — a pass over the whole set per block of 256 of them (exact/exact-search.ts: ONNX Runtime's matrix
 * product gives the distances).
 *
 * A search can also reach the point and still miss its nearest neighbours (in a tight cluster, where every point is
 * about as far as every other, greedy search has little to go on). In high dimension that is what does the harm: a
 * radius 10–15% too large can hold thousands of the other set's points instead of about k. Such a radius stands out
 * from its neighbours' (`radiusOutliers`), and those points get exact search too. (A second, wider HNSW search is no
 * check: where the first missed, it may miss again and confirm the wrong radius.)
 */
import { quantileSorted } from '../../stats/index.js';
import { stageReporter, type OnProgress } from '../../progress.js';
import { exactKnn, type AnnIndex, type Neighbours } from './ann-index.js';
import { exactNeighbours, scanNearPairs } from '../exact/exact-search.js';
import { NearestLists } from './nearest-lists.js';
import { row, subset, type VectorSet } from '../vectors.js';

export interface Radii {
  radii: Float64Array;
  /** Points no search reached, even a widened one: radii by exact search; their memberships come from the second look. */
  unreachable: number[];
  /** Points reached only by a search with the wide candidate list (WIDE_EF): ordinary queries seldom return them. */
  widened: number;
  /** Radii that stood out from their neighbours' (`radiusOutliers`), recomputed by exact search, and how many that made smaller. */
  outliers: { flagged: number; corrected: number };
}

/**
 * A radius this many times its neighbours' median radius, relative to the set's typical such ratio, is checked again
 * (see `radiusOutliers`). Measured on 1M points of the bench's 256-d mixture (bench/notes/2026-history.md): radii more than 5%
 * too large — the ones that hold many times k of the other set — begin at a ratio of 1.07; below it the errors were
 * ≤ 1.1% (a neighbour or two past the k-th). 1.07 flags ≈0.5% of that set.
 */
export const OUTLIER_RATIO = 1.07;
/** At most this share of a set is checked again (the largest ratios), and at least `OUTLIER_MIN` points may be. */
export const OUTLIER_SHARE = 0.01;
export const OUTLIER_MIN = 64;

/** hnswlib's ef for the search that looks for a point ordinary queries do not reach. */
export const WIDE_EF = 2000;

export async function knnRadii(
  set: VectorSet,
  index: AnnIndex,
  k: number,
  onProgress?: OnProgress,
  stage = 'radii',
): Promise<Radii> {
  const n = set.ids.length;
  const lists = new NearestLists(n, k);
  /**
   * Fills point i's list from the index, and puts i in the lists of the points found (a search from i's position can
   * miss neighbours whose own searches find i); false when the query did not find the point itself.
   */
  const query = (i: number): boolean => {
    const nb = index.knn(row(set, i), 4 * (k + 1));
    if (!foundItself(nb, i)) return false;
    nb.ids.forEach((j, t) => {
      if (j === i) return;
      lists.insert(i, j, nb.distances[t]!);
      lists.insert(j, i, nb.distances[t]!);
    });
    return true;
  };
  let missed: number[] = [];
  const tick = stageReporter(onProgress, stage, n);
  for (let i = 0; i < n; i++) {
    if (!query(i)) missed.push(i);
    tick(i);
  }
  if (missed.length) {
    index.reinsert(set, missed);
    missed = missed.filter((i) => !query(i));
  }
  const widely = missed.length;
  missed = missed.filter((u) => !wideQuery(set, index, k, lists, u));
  const flagged = radiusOutliers(lists, n, k, missed);
  const before = flagged.map((i) => lists.radius(i));
  await placeExactly(set, lists, [...missed, ...flagged]);
  const corrected = flagged.filter((i, t) => shrank(before[t]!, lists.radius(i)));
  return {
    radii: Float64Array.from({ length: n }, (_, i) => lists.radius(i)),
    unreachable: missed,
    widened: widely - missed.length,
    outliers: { flagged: flagged.length, corrected: corrected.length },
  };
}

/**
 * Points whose radius stands out from their neighbours': the radius over the median of its listed neighbours' radii,
 * divided by the median of that ratio over the set, is OUTLIER_RATIO or more. The largest come first, and at most
 * OUTLIER_SHARE of the set (or OUTLIER_MIN points) are returned. `skip`: points whose radii are found exactly anyway.
 *
 * Dividing by the set's median ratio takes out what every point shares (a point's nearest neighbours tend to lie
 * where the set is denser, so the raw ratio is above 1: ≈1.03 in the 256-d benchmark mixture, ≈1.09 in a 16-d one).
 * Where a small radius error does harm the data are concentrated — every point about as far from its neighbours as
 * they are from theirs — so right radii sit close to the typical ratio (20k points of the 256-d mixture: 99.6% within
 * 10%) and a radius that missed the nearest points stands out. Where radii vary widely from point to point, large
 * ratios are common and harmless (membership changes slowly with the radius): the share cap then keeps the extra
 * searches to the most outstanding 1%.
 */
export function radiusOutliers(
  lists: { ids: Int32Array; radius(i: number): number },
  n: number,
  k: number,
  skip: number[] = [],
): number[] {
  const radii = Float64Array.from({ length: n }, (_, i) => lists.radius(i));
  const ratio = new Float64Array(n);
  const around: number[] = [];
  for (let i = 0; i < n; i++) {
    around.length = 0;
    for (let t = 0; t < k; t++) {
      const j = lists.ids[i * k + t]!;
      if (j >= 0) around.push(radii[j]!);
    }
    around.sort((a, b) => a - b);
    const mid = around[(around.length - 1) >> 1];
    // No neighbours listed, or a radius of 0 around (copies): nothing to compare with.
    ratio[i] = mid ? radii[i]! / mid : NaN;
  }
  for (const u of skip) ratio[u] = NaN;
  const comparable = ratio.filter((x) => x > 0).sort();
  if (!comparable.length) return [];
  const typical = quantileSorted(comparable, 0.5);
  const outstanding = Array.from({ length: n }, (_, i) => i).filter((i) => ratio[i]! >= OUTLIER_RATIO * typical);
  outstanding.sort((a, b) => ratio[b]! - ratio[a]!);
  return outstanding.slice(0, Math.max(OUTLIER_MIN, Math.ceil(OUTLIER_SHARE * n)));
}

/**
 * The exact search for points whose lists no index search can be trusted for (unreachable, or radius outliers): their
 * own lists, and their place in every other point's list (exact-search.ts: a pass over the set per 256 of them).
 */
async function placeExactly(set: VectorSet, lists: NearestLists, rows: number[]): Promise<void> {
  if (!rows.length) return;
  const isExact = new Uint8Array(set.ids.length);
  for (const u of rows) {
    isExact[u] = 1;
    lists.clear(u);
  }
  const bound = new Float64Array(rows.length).fill(Infinity);
  const rowBound = (i: number) => (isExact[i] ? -Infinity : lists.kth(i) ** 2);
  await scanNearPairs(set, subset(set, rows).data, bound, rowBound, (i, t, d) => {
    const u = rows[t]!;
    if (u === i) return;
    lists.insert(u, i, d);
    bound[t] = lists.kth(u) ** 2;
    if (!isExact[i]) lists.insert(i, u, d);
  });
}

/**
 * Looks for point u with the wide candidate list; when found, fills its list from that search and puts it in the
 * lists of the points returned (its neighbours, whose lists missed it). False when even this does not reach it.
 */
function wideQuery(set: VectorSet, index: AnnIndex, k: number, lists: NearestLists, u: number): boolean {
  const nb = index.knn(row(set, u), Math.max(4 * k, 32), WIDE_EF);
  if (!foundItself(nb, u)) return false;
  nb.ids.forEach((j, t) => {
    if (j === u) return;
    lists.insert(u, j, nb.distances[t]!);
    lists.insert(j, u, nb.distances[t]!);
  });
  return true;
}

/**
 * Whether a search from indexed point i's own position reached it: i among the results, or a copy of it at distance 0
 * (the right place too; duplicates are common).
 */
export function foundItself(nb: Neighbours, i: number): boolean {
  return nb.ids.includes(i) || nb.distances[0] === 0;
}

/** Whether an exact radius is really smaller than the index's: hnswlib's distances are float32, the exact ones float64. */
export function shrank(indexed: number, exact: number): boolean {
  return exact < indexed * (1 - 1e-5);
}

/**
 * The radius from a point's exact k+1 nearest in its own set (itself first, at distance 0): the k-th other point's
 * distance, or the farthest there is when the set has k or fewer others.
 */
function radiusOf(nearestWithSelf: Neighbours, k: number): number {
  const d = nearestWithSelf.distances;
  return d[Math.min(k, d.length - 1)] ?? 0;
}

/** The exact radii of points `rows` (exact-search.ts; for balls whose count is to be trusted, prdc.ts). */
export async function exactRadiiOf(set: VectorSet, rows: number[], k: number): Promise<Float64Array> {
  const found = await exactNeighbours(set, subset(set, rows).data, k + 1);
  return Float64Array.from(found, (nb) => radiusOf(nb, k));
}

/** Point i's radius by a float64 loop over the set (O(N·d)), for checks. */
export function exactRadius(set: VectorSet, i: number, k: number): number {
  return radiusOf(exactKnn(set, row(set, i), k + 1), k);
}

/** Every radius by brute force (O(N²·d)), for checks. */
export function exactRadii(set: VectorSet, k: number): Float64Array {
  return Float64Array.from({ length: set.ids.length }, (_, i) => exactRadius(set, i, k));
}
