/**
 * The bookkeeping of exact coverage search (exact-prdc.ts): a set cut into blocks of rows for the tiles (tiles.ts),
 * per-point lists of the K smallest float32 distances the tiles returned, a two-deep pipeline (the next tile runs in
 * ONNX Runtime while this thread merges the last), and float32 rounding in a stated direction.
 */
import type { OnProgress } from '../../progress.js';
import type { VectorSet } from '../vectors.js';
import { centredSquares, type Block } from './tiles.js';

/**
 * A set ready for tiles: its rows (outside shared memory: onnxruntime-node takes no SharedArrayBuffer), cut into
 * blocks that are views of them, and the squared norms of the rows less `centre` (the reference's mean), which the
 * tiles subtract (tiles.ts). The float64 checks use the rows as given.
 */
export interface PreparedSet {
  /** The rows as given, outside shared memory. */
  vectors: VectorSet;
  n: number;
  dim: number;
  /** |fl32(x − centre)|² per row, float64 (what the tiles see). */
  sq: Float64Array;
  maxSq: number;
  /** Rows per block. */
  tile: number;
  blocks: number;
  /** Block b: a view of its rows, the centre, and their squared norms. */
  block(b: number): Block & { start: number };
  /** Block b's first row and row count. */
  span(b: number): { start: number; count: number };
}

/** The mean row of `set`, rounded to float32 (the tiles' centre). */
export function meanRow(set: VectorSet): Float32Array {
  const { dim } = set;
  const n = set.ids.length;
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j]! += set.data[i * dim + j]!;
  return Float32Array.from(mean, (s) => s / Math.max(1, n));
}

export function prepare(set: VectorSet, tile: number, centre: Float32Array): PreparedSet {
  const { dim } = set;
  const n = set.ids.length;
  const data = set.data.buffer instanceof SharedArrayBuffer ? set.data.slice() : set.data;
  const vectors = data === set.data ? set : { ...set, data };
  const sq = centredSquares(data, dim, centre);
  const maxSq = sq.reduce((a, b) => Math.max(a, b), 0);
  const sq32 = Float32Array.from(sq);
  const span = (b: number) => ({ start: b * tile, count: Math.min(n, (b + 1) * tile) - b * tile });
  return {
    vectors,
    n,
    dim,
    sq,
    maxSq,
    tile,
    blocks: Math.ceil(n / tile),
    span,
    block: (b) => {
      const { start, count } = span(b);
      return {
        start,
        count,
        centre,
        data: data.subarray(start * dim, (start + count) * dim),
        sq: sq32.subarray(start, start + count),
      };
    },
  };
}

/**
 * Per point, the K smallest (float32) values offered so far and whose they are, ascending; +Infinity / -1 while not
 * full. Each pair is offered at most once per point (the tiles cover every pair once), so there is no duplicate
 * check. The largest kept value only falls, so a value not offered because it was not below it at some time is not
 * below it at the end.
 */
export class ApproxLists {
  readonly values: Float32Array;
  readonly ids: Int32Array;

  constructor(
    n: number,
    readonly k: number,
  ) {
    this.values = new Float32Array(n * k).fill(Infinity);
    this.ids = new Int32Array(n * k).fill(-1);
  }

  /** Offers `len` ascending values (`values[from…]`, ids `ids[from…] + idOffset`) to point p's list. */
  offerSorted(p: number, values: Float32Array, ids: Int32Array, from: number, len: number, idOffset: number): void {
    for (let t = 0; t < len; t++) {
      if (!(values[from + t]! < this.last(p))) return;
      this.offer(p, values[from + t]!, ids[from + t]! + idOffset);
    }
  }

  /** Offers one value (id `id`) to point p's list. */
  offer(p: number, v: number, id: number): void {
    const { k } = this;
    const base = p * k;
    if (!(v < this.values[base + k - 1]!)) return;
    let at = k - 1;
    while (at > 0 && this.values[base + at - 1]! > v) {
      this.values[base + at] = this.values[base + at - 1]!;
      this.ids[base + at] = this.ids[base + at - 1]!;
      at--;
    }
    this.values[base + at] = v;
    this.ids[base + at] = id;
  }

  /** The lists' largest values for points start … start + count − 1 (thresholds for the next tiles). */
  lasts(start: number, count: number): Float32Array {
    const out = new Float32Array(count);
    for (let t = 0; t < count; t++) out[t] = this.values[(start + t) * this.k + this.k - 1]!;
    return out;
  }

  /** The largest value kept for p: every value offered to p and not kept is at least this. */
  last(p: number): number {
    return this.values[p * this.k + this.k - 1]!;
  }
}

/**
 * Runs `start(0…count−1)` with the next one started before `consume` handles the current one, so ONNX Runtime
 * (on its own threads) computes tile t+1 while this thread merges tile t — except where `after(t)`: job t needs
 * every job before it consumed (its inputs come from them), so it starts only then.
 */
export async function pipelined<T>(
  count: number,
  start: (t: number) => Promise<T>,
  consume: (result: T, t: number) => void,
  after: (t: number) => boolean = () => false,
): Promise<void> {
  let next: Promise<T> | undefined = count > 0 ? start(0) : undefined;
  for (let t = 0; t < count; t++) {
    const current = await next!;
    const early = t + 1 < count && !after(t + 1);
    next = early ? start(t + 1) : undefined;
    next?.catch(() => undefined); // awaited on the next turn; not an unhandled rejection if consume throws first
    consume(current, t);
    if (!early && t + 1 < count) next = start(t + 1);
  }
}

/** A stage's progress in points, advanced by shares of its work (tiles differ in size). */
export function workProgress(
  onProgress: OnProgress | undefined,
  stage: string,
  points: number,
  work: number,
): (done: number) => void {
  if (!onProgress) return () => undefined;
  onProgress(stage, 0, points);
  let sum = 0;
  return (done) => {
    sum += done;
    onProgress(stage, work > 0 ? Math.min(points, Math.round((points * sum) / work)) : points, points);
  };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The largest float32 ≤ v (finite v). */
export function f32Below(v: number): number {
  f32[0] = v;
  if (f32[0]! <= v) return f32[0]!;
  // Rounded up: step one float32 towards −∞.
  if (f32[0] === 0) return -(2 ** -149);
  u32[0] = f32[0]! > 0 ? u32[0]! - 1 : u32[0]! + 1;
  return f32[0]!;
}

/** The smallest float32 ≥ v (finite v). */
export function f32Above(v: number): number {
  return -f32Below(-v);
}
