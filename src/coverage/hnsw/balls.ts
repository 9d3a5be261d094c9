/**
 * Ball memberships for Naeem et al.'s metrics (prdc.ts), one index at a time: which points of an indexed set lie in
 * each of the other set's k-NN balls (`ballCounts`), and a second look from the points found in no ball
 * (`secondLook`). Each function queries only the index it is given, so the two sides of a coverage run can each be
 * answered on the thread that holds that side's index (index-host.ts).
 */
import { stageReporter, type OnProgress } from '../../progress.js';
import { AnnIndex, type Neighbours } from './ann-index.js';
import { scanNearPairs } from '../exact/exact-search.js';
import { row, subset, type VectorSet } from '../vectors.js';

export interface BallLimits {
  /** First k-NN query size of a ball query. */
  probe: number;
  /** Largest ball enumerated in full. */
  maxProbe: number;
}

interface Ball {
  /** Nearest indexed points, ascending; those with distance ≤ radius are the ball's members. */
  nearest: Neighbours;
  members: number;
  capped: boolean;
}

/** The indexed points within `radius` of `query`: nearest neighbours, doubled until one falls outside (or `maxProbe`). */
function ballQuery(index: AnnIndex, query: number[], radius: number, { probe, maxProbe }: BallLimits): Ball {
  let p = Math.min(probe, index.size, maxProbe);
  for (;;) {
    const nearest = index.knn(query, p);
    const d = nearest.distances;
    const outside = d.length > 0 && d[d.length - 1]! > radius;
    if (outside || p >= index.size || p >= maxProbe) {
      let members = 0;
      while (members < d.length && d[members]! <= radius) members++;
      return { nearest, members, capped: !outside && p < index.size };
    }
    p = Math.min(2 * p, index.size, maxProbe);
  }
}

export interface BallCounts {
  /** Per point of the member set: how many balls hold it. */
  counts: Int32Array;
  /** Per ball: distance from its centre to the nearest member-set point. */
  nearest: Float64Array;
  /** Balls that held more than `maxProbe` points (rows of the centre set). */
  cappedRows: number[];
}

/**
 * For balls centred on `centres` (radii `radii`), which points of `members` each holds, gathered from the balls' side
 * with `memberIndex`. Member points the index does not reach (radii.ts) are returned by few or no queries: found in no
 * ball, they get the second look from their own side (`secondLook`), which does not depend on this index.
 */
export function ballCounts(
  centres: VectorSet,
  radii: Float64Array,
  members: VectorSet,
  memberIndex: AnnIndex,
  limits: BallLimits,
  onProgress?: OnProgress,
  stage = 'balls',
): BallCounts {
  const counts = new Int32Array(members.ids.length);
  const nearest = new Float64Array(centres.ids.length);
  const cappedRows: number[] = [];
  const tick = stageReporter(onProgress, stage, centres.ids.length);
  for (let c = 0; c < centres.ids.length; c++) {
    const ball = ballQuery(memberIndex, row(centres, c), radii[c]!, limits);
    for (let t = 0; t < ball.members; t++) counts[ball.nearest.ids[t]!]!++;
    nearest[c] = ball.nearest.distances[0] ?? Infinity;
    if (ball.capped) cappedRows.push(c);
    tick(c);
  }
  return { counts, nearest, cappedRows };
}

/**
 * Balls that held more than `maxProbe` points, counted again exactly: `rows` (centre rows, from `found.cappedRows`)
 * with their radii `exactRadii` (exact search on their own side; the radii they were queried with, `radii`, may have
 * been too large). Their capped members are taken back — the same query to the same index gives the same answer —
 * and every member point within the exact radius is counted by exact search (exact-search.ts), however many there are.
 * Returns `found` updated, without those rows in `cappedRows`.
 */
export async function recountBalls(
  centres: VectorSet,
  radii: Float64Array,
  rows: number[],
  exactRadii: Float64Array,
  members: VectorSet,
  memberIndex: AnnIndex,
  found: BallCounts,
  limits: BallLimits,
): Promise<BallCounts> {
  const { counts, nearest } = found;
  for (const c of rows) {
    const ball = ballQuery(memberIndex, row(centres, c), radii[c]!, limits);
    for (let t = 0; t < ball.members; t++) counts[ball.nearest.ids[t]!]!--;
  }
  const bound = Float64Array.from(exactRadii, (r) => r * r);
  await scanNearPairs(
    members,
    subset(centres, rows).data,
    bound,
    () => -Infinity,
    (m, t, d) => {
      if (d > exactRadii[t]!) return;
      counts[m]!++;
      const c = rows[t]!;
      if (d < nearest[c]!) nearest[c] = d;
    },
  );
  const recounted = new Set(rows);
  return { counts, nearest, cappedRows: found.cappedRows.filter((c) => !recounted.has(c)) };
}

/**
 * A point found in no ball is what precision and recall count, so each one gets a second look from its own side,
 * with `centreIndex`: its `probe` nearest centres (a ball query the graph search missed, ~1% of memberships at 100k
 * points, is usually found this way), and, when some balls were capped, the capped balls alone (an index of their
 * centres, out to the largest capped radius). Updates `found.counts` and `found.nearest` in place; returns how many
 * points that last check left unsettled because it hit the cap too.
 */
export function secondLook(
  centres: VectorSet,
  centreIndex: AnnIndex,
  radii: Float64Array,
  members: VectorSet,
  found: BallCounts,
  limits: BallLimits,
  onProgress?: OnProgress,
  stage = 'second look',
): number {
  const { counts, nearest, cappedRows } = found;
  const capped = new Uint8Array(centres.ids.length);
  for (const c of cappedRows) capped[c] = 1;
  const cappedIndex = cappedRows.length ? AnnIndex.build(subset(centres, cappedRows), centreIndex.params) : null;
  const cappedRadius = cappedRows.reduce((a, c) => Math.max(a, radii[c]!), 0);
  let unchecked = 0;
  const tick = stageReporter(onProgress, stage, counts.length);
  for (let m = 0; m < counts.length; m++) {
    tick(m);
    if (counts[m]) continue;
    const q = row(members, m);
    const near = centreIndex.knn(q, limits.probe);
    near.ids.forEach((c, t) => {
      if (!capped[c] && near.distances[t]! <= radii[c]!) {
        counts[m]!++;
        if (near.distances[t]! < nearest[c]!) nearest[c] = near.distances[t]!;
      }
    });
    if (!cappedIndex) continue;
    const around = ballQuery(cappedIndex, q, cappedRadius, limits);
    if (around.capped) unchecked++;
    for (let t = 0; t < around.members; t++) {
      if (around.nearest.distances[t]! <= radii[cappedRows[around.nearest.ids[t]!]!]!) counts[m]!++;
    }
  }
  return unchecked;
}
