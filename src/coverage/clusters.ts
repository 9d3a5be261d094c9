/**
 * Regions of the reference: k-means (k-means++ seeding, Lloyd iterations, Euclidean on the L2-normalised rows) on a
 * seeded sample of the reference, then every reference and candidate document assigned to its nearest centroid
 * (exact, over the centroids). Per cluster: the reference's and the candidate's share of documents; clusters where
 * the candidate's share is under half the reference's are thin, those it lacks entirely are absent: the tails.
 */
import { mulberry32, sampleIndices } from '../random.js';
import { squaredDistance, subset, type VectorSet } from './vectors.js';

export interface Clustering {
  centroids: Float32Array;
  k: number;
  dim: number;
}

export function nearestCentroid(c: Clustering, data: Float32Array, i: number): number {
  let best = 0;
  let bestD = Infinity;
  for (let t = 0; t < c.k; t++) {
    const d = squaredDistance(data, i, c.centroids, t, c.dim);
    if (d < bestD) {
      bestD = d;
      best = t;
    }
  }
  return best;
}

export interface KmeansOptions {
  sample?: number;
  iterations?: number;
  seed?: number;
}

/** The seeded sample and the k-means++ centres drawn from it (each next centre with probability ∝ its squared distance to the chosen ones). */
function seeded(
  set: VectorSet,
  k: number,
  opts: KmeansOptions,
): { pts: Float32Array; sampleSize: number; clustering: Clustering } {
  const rng = mulberry32(opts.seed ?? 1);
  const n = set.ids.length;
  const dim = set.dim;
  const sampleSize = Math.min(n, opts.sample ?? 20_000);
  const pts = subset(set, sampleIndices(rng, n, sampleSize)).data;
  const kk = Math.min(k, sampleSize);
  const centroids = new Float32Array(kk * dim);
  centroids.set(pts.subarray(0, dim), 0);
  const d2 = new Float64Array(sampleSize).fill(Infinity);
  for (let c = 1; c < kk; c++) {
    let total = 0;
    for (let i = 0; i < sampleSize; i++) {
      d2[i] = Math.min(d2[i]!, squaredDistance(pts, i, centroids, c - 1, dim));
      total += d2[i]!;
    }
    let u = rng() * total;
    let pick = 0;
    while (pick < sampleSize - 1 && u > d2[pick]!) u -= d2[pick++]!;
    centroids.set(pts.subarray(pick * dim, (pick + 1) * dim), c * dim);
  }
  return { pts, sampleSize, clustering: { centroids, k: kk, dim } };
}

/** Lloyd's update: each centre moves to the mean of its points (an empty cluster keeps its centre). */
function moveCentres(c: Clustering, pts: Float32Array, assign: Int32Array): void {
  const { k, dim, centroids } = c;
  const sums = new Float64Array(k * dim);
  const counts = new Int32Array(k);
  for (let i = 0; i < assign.length; i++) {
    counts[assign[i]!]!++;
    for (let j = 0; j < dim; j++) sums[assign[i]! * dim + j] = sums[assign[i]! * dim + j]! + pts[i * dim + j]!;
  }
  for (let t = 0; t < k; t++) {
    if (counts[t] === 0) continue;
    for (let j = 0; j < dim; j++) centroids[t * dim + j] = sums[t * dim + j]! / counts[t]!;
  }
}

export function kmeans(set: VectorSet, k: number, opts: KmeansOptions = {}): Clustering {
  const { pts, sampleSize, clustering } = seeded(set, k, opts);
  const assign = new Int32Array(sampleSize);
  for (let it = 0; it < (opts.iterations ?? 25); it++) {
    let moved = 0;
    for (let i = 0; i < sampleSize; i++) {
      const c = nearestCentroid(clustering, pts, i);
      if (c !== assign[i] || it === 0) moved++;
      assign[i] = c;
    }
    moveCentres(clustering, pts, assign);
    if (moved === 0) break;
  }
  return clustering;
}

/**
 * The same k-means as `kmeans`, with each round's assignment from `assignRows` (rows of set.dim floats → their
 * nearest centroid). Given assignments equal to nearestCentroid's (exact/centroids.ts keeps that contract), the
 * result is kmeans's, bit for bit.
 */
export async function kmeansWith(
  set: VectorSet,
  k: number,
  opts: KmeansOptions,
  assignRows: (rows: Float32Array, c: Clustering) => Promise<Int32Array>,
): Promise<Clustering> {
  const { pts, sampleSize, clustering } = seeded(set, k, opts);
  const assign = new Int32Array(sampleSize);
  for (let it = 0; it < (opts.iterations ?? 25); it++) {
    const next = await assignRows(pts, clustering);
    let moved = 0;
    for (let i = 0; i < sampleSize; i++) if (next[i] !== assign[i] || it === 0) moved++;
    assign.set(next);
    moveCentres(clustering, pts, assign);
    if (moved === 0) break;
  }
  return clustering;
}

export function assignAll(c: Clustering, set: VectorSet): Int32Array {
  const out = new Int32Array(set.ids.length);
  for (let i = 0; i < out.length; i++) out[i] = nearestCentroid(c, set.data, i);
  return out;
}

export interface ClusterRow {
  cluster: number;
  reference_documents: number;
  candidate_documents: number;
  reference_share: number;
  candidate_share: number;
  /** candidate_share / reference_share (0: absent). */
  representation: number;
  status: 'absent' | 'thin' | 'ok' | 'over';
  /** Reference documents nearest the centre. */
  examples: string[];
}

/** Per cluster: how many points of `assign` it holds, or the sum of `values` over them. */
export function perCluster(assign: Int32Array, k: number, values?: ArrayLike<number>): Float64Array {
  const sums = new Float64Array(k);
  for (let i = 0; i < assign.length; i++) sums[assign[i]!]! += values ? values[i]! : 1;
  return sums;
}

export function clusterTable(
  c: Clustering,
  ref: VectorSet,
  refAssign: Int32Array,
  candAssign: Int32Array,
  examples = 3,
): ClusterRow[] {
  return clusterTableWithRows(c, ref, refAssign, candAssign, examples).table;
}

/** clusterTable, and per cluster the reference rows of its `examples` (ids need not tell rows apart). */
export function clusterTableWithRows(
  c: Clustering,
  ref: VectorSet,
  refAssign: Int32Array,
  candAssign: Int32Array,
  examples = 3,
): { table: ClusterRow[]; exampleRows: number[][] } {
  const rows: ClusterRow[] = [];
  const exampleRows: number[][] = [];
  const membersOf = Array.from({ length: c.k }, (): number[] => []);
  refAssign.forEach((t, i) => membersOf[t]!.push(i));
  const candCounts = perCluster(candAssign, c.k);
  for (let t = 0; t < c.k; t++) {
    const members = membersOf[t]!;
    const nRef = members.length;
    const nCand = candCounts[t]!;
    const rs = nRef / refAssign.length;
    const cs = candAssign.length ? nCand / candAssign.length : 0;
    const rep = rs > 0 ? cs / rs : Infinity;
    const near = members
      .sort(
        (a, b) =>
          squaredDistance(ref.data, a, c.centroids, t, c.dim) - squaredDistance(ref.data, b, c.centroids, t, c.dim),
      )
      .slice(0, examples);
    rows.push({
      cluster: t,
      reference_documents: nRef,
      candidate_documents: nCand,
      reference_share: rs,
      candidate_share: cs,
      representation: rep,
      status: nCand === 0 && nRef > 0 ? 'absent' : rep < 0.5 ? 'thin' : rep > 2 ? 'over' : 'ok',
      examples: near.map((i) => ref.ids[i]!),
    });
    exampleRows.push(near);
  }
  return { table: rows, exampleRows };
}

/** Total-variation distance between two histograms given as shares: ½ Σ |p − q|. */
export function totalVariation(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += Math.abs(p[i]! - q[i]!);
  return s / 2;
}
