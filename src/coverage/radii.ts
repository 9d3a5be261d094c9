/**
 * k-NN radii of an indexed set: the distance from each point to its k-th nearest other point of the same set (the
 * balls of Naeem et al.'s metrics, prdc.ts).
 *
 * Each self-query asks for 4(k+1) points (the search's cost is set by ef, not by how many it returns) and offers the
 * querying point to the lists of all it returns: a search from a point's own position can miss neighbours whose own
 * searches find it. Asking for more than k+1 matters because the relation is not symmetric: in high dimension many
 * points are among the k nearest of few others. (Measured: at 100k points it corrects a few radii; at 1M it changes
 * almost none, so it is not what leaves some balls enormous there; bench/RESULTS.md.)
 *
 * HNSW leaves a few points poorly linked (~0.2% in clustered 256-d data): a query, even from the point's own
 * position, never reaches them. Left alone, such a point gets a radius far too large (its query lands in another
 * region; one such ball can hold thousands of points) and is missing from its neighbours' lists (their radii too
 * large). So: a query from an indexed point must return the point itself. Those that do not are re-inserted (hnswlib
 * relinks them) and queried again; then searched for with a much wider candidate list (`WIDE_EF`), which reaches
 * nearly all of the rest: they take their own list from that search and their place in the lists of the points it
 * returned. The few still unreachable are handled by exact search — their own radius, and their place in every other
 * point's list — a pass over the whole set per block of them (the last resort: at 1M points, ~2,000 such points took
 * a third of the metric pass).
 */
import { stageReporter, type OnProgress } from '../progress.js';
import { exactKnn, type AnnIndex } from './ann-index.js';
import { row, squaredDistance, subset, type VectorSet } from './vectors.js';

export interface Radii {
  radii: Float64Array;
  /** Points no search reached, even a widened one: radii by exact search; their memberships come from the second look. */
  unreachable: number[];
  /** Points reached only by a search with the wide candidate list (WIDE_EF): ordinary queries seldom return them. */
  widened: number;
}

/** hnswlib's ef for the search that looks for a point ordinary queries do not reach. */
export const WIDE_EF = 2000;

/** Each point's k nearest others (ids and distances, ascending), so an unreachable point can be slotted in later. */
class NearestLists {
  readonly ids: Int32Array;
  readonly dist: Float64Array;

  constructor(n: number, private readonly k: number) {
    this.ids = new Int32Array(n * k).fill(-1);
    this.dist = new Float64Array(n * k).fill(Infinity);
  }

  /** Adds `j` at distance `d` to point i's list, unless it is there already or farther than the k-th. */
  insert(i: number, j: number, d: number): void {
    const base = i * this.k;
    if (d >= this.dist[base + this.k - 1]!) return;
    for (let t = 0; t < this.k; t++) if (this.ids[base + t] === j) return;
    let at = this.k - 1;
    while (at > 0 && this.dist[base + at - 1]! > d) {
      this.dist[base + at] = this.dist[base + at - 1]!;
      this.ids[base + at] = this.ids[base + at - 1]!;
      at--;
    }
    this.dist[base + at] = d;
    this.ids[base + at] = j;
  }

  clear(i: number): void {
    this.ids.fill(-1, i * this.k, (i + 1) * this.k);
    this.dist.fill(Infinity, i * this.k, (i + 1) * this.k);
  }

  /** The k-th distance, or the farthest there is when the set has k or fewer other points (0 when none). */
  radius(i: number): number {
    for (let t = this.k - 1; t >= 0; t--) if (this.dist[i * this.k + t]! < Infinity) return this.dist[i * this.k + t]!;
    return 0;
  }
}

export function knnRadii(set: VectorSet, index: AnnIndex, k: number, onProgress?: OnProgress, stage = 'radii'): Radii {
  const n = set.ids.length;
  const lists = new NearestLists(n, k);
  /**
   * Fills point i's list from the index, and puts i in the lists of the points found (a search from i's position can
   * miss neighbours whose own searches find i); false when the query did not find the point itself.
   */
  const query = (i: number): boolean => {
    const nb = index.knn(row(set, i), 4 * (k + 1));
    // A copy of the point at distance 0 shows the query reached the right place too (duplicates are common).
    if (!nb.ids.includes(i) && nb.distances[0] !== 0) return false;
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
  placeExactly(set, lists, missed);
  return { radii: Float64Array.from({ length: n }, (_, i) => lists.radius(i)), unreachable: missed, widened: widely - missed.length };
}

/**
 * The exact search for points no search reaches: their own lists, and their place in every other point's list. One
 * pass over the set for a block of them at a time (the block's rows stay in cache while the set streams by).
 */
function placeExactly(set: VectorSet, lists: NearestLists, unreachable: number[]): void {
  const { data, dim } = set;
  const n = set.ids.length;
  const isUnreachable = new Uint8Array(n);
  for (const u of unreachable) {
    isUnreachable[u] = 1;
    lists.clear(u);
  }
  const BLOCK = 256;
  for (let b0 = 0; b0 < unreachable.length; b0 += BLOCK) {
    const block = unreachable.slice(b0, b0 + BLOCK);
    const rows = subset(set, block).data;
    for (let i = 0; i < n; i++) {
      for (let b = 0; b < block.length; b++) {
        const u = block[b]!;
        if (u === i) continue;
        const d = Math.sqrt(squaredDistance(data, i, rows, b, dim));
        lists.insert(u, i, d);
        if (!isUnreachable[i]) lists.insert(i, u, d);
      }
    }
  }
}

/**
 * Looks for point u with the wide candidate list; when found, fills its list from that search and puts it in the
 * lists of the points returned (its neighbours, whose lists missed it). False when even this does not reach it.
 */
function wideQuery(set: VectorSet, index: AnnIndex, k: number, lists: NearestLists, u: number): boolean {
  const nb = index.knn(row(set, u), Math.max(4 * k, 32), WIDE_EF);
  if (!nb.ids.includes(u) && nb.distances[0] !== 0) return false;
  nb.ids.forEach((j, t) => {
    if (j === u) return;
    lists.insert(u, j, nb.distances[t]!);
    lists.insert(j, u, nb.distances[t]!);
  });
  return true;
}

/** Point i's radius by brute force (O(N·d)), for checks. */
export function exactRadius(set: VectorSet, i: number, k: number): number {
  const d = exactKnn(set, row(set, i), k + 1).distances; // the point itself first, at distance 0
  return d[Math.min(k, d.length - 1)] ?? 0;
}

/** Every radius by brute force (O(N²·d)), for checks. */
export function exactRadii(set: VectorSet, k: number): Float64Array {
  return Float64Array.from({ length: set.ids.length }, (_, i) => exactRadius(set, i, k));
}
