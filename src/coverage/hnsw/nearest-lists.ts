/**
 * Fixed-size lists of the k nearest found so far, one per point or query (ids and distances, ascending, -1 / Infinity
 * while not full): the radii's lists (radii.ts), where a point can still be slotted into others' lists later, and the
 * lists of an exact search (exact-search.ts). Ties keep the one offered first.
 */
import type { Neighbours } from './ann-index.js';

export class NearestLists {
  readonly ids: Int32Array;
  readonly dist: Float64Array;

  constructor(
    n: number,
    private readonly k: number,
  ) {
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

  /** List i as found: its ids and distances, ascending, without the unfilled places. */
  neighbours(i: number): Neighbours {
    const ids: number[] = [];
    const distances: number[] = [];
    for (let t = i * this.k; t < (i + 1) * this.k && this.ids[t]! >= 0; t++) {
      ids.push(this.ids[t]!);
      distances.push(this.dist[t]!);
    }
    return { ids, distances };
  }

  /** The k-th distance, Infinity while the list has fewer than k. */
  kth(i: number): number {
    return this.dist[i * this.k + this.k - 1]!;
  }

  /** The k-th distance, or the farthest there is when the set has k or fewer other points (0 when none). */
  radius(i: number): number {
    for (let t = this.k - 1; t >= 0; t--) if (this.dist[i * this.k + t]! < Infinity) return this.dist[i * this.k + t]!;
    return 0;
  }
}
