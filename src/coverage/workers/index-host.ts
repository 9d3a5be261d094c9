/**
 * One side of a coverage run (the reference or the candidate): its vectors, its HNSW index, and the other side's
 * vectors, answering the jobs of prdc.ts that query this side's index. `LocalIndexHost` answers them on the calling
 * thread; `WorkerIndexHost` (worker-host.ts) on a worker thread of its own, so the two sides run at once.
 */
import { UsageError } from '../../errors.js';
import type { OnProgress } from '../../progress.js';
import { AnnIndex, type IndexParams, type Neighbours } from '../hnsw/ann-index.js';
import { ballCounts, recountBalls, secondLook, type BallCounts, type BallLimits } from '../hnsw/balls.js';
import { tuneEfSearch, type EfTuning, type RecallTarget } from '../hnsw/ef-tuning.js';
import { exactRadiiOf, knnRadii, type Radii } from '../hnsw/radii.js';
import { row, type VectorSet } from '../vectors.js';

export interface IndexHost {
  /** Points on this side. */
  readonly size: number;
  /** Raises this side's ef until its self-queries' recall@(k+1) reaches the target (ef-tuning.ts). */
  tuneEf(k: number, goal: RecallTarget, onProgress?: OnProgress): Promise<EfTuning>;
  /** Sets the ef this side's index searches with (an ef tuned earlier; see prdc's `referenceSide`). */
  setEf(ef: number): Promise<void>;
  /** k-NN radii of this side's points (may re-insert points the index could not reach; see radii.ts). */
  radii(k: number, onProgress?: OnProgress): Promise<Radii>;
  /** The other side's balls (radii `otherRadii`) over this side's points. */
  ballCounts(otherRadii: Float64Array, limits: BallLimits, onProgress?: OnProgress): Promise<BallCounts>;
  /** Exact radii of this side's points `rows` (exact search). */
  exactRadii(rows: number[], k: number): Promise<Float64Array>;
  /** The other side's balls `rows` (queried with `otherRadii`, capped) counted again exactly over this side's points with their exact radii (balls.ts). */
  recountBalls(
    otherRadii: Float64Array,
    rows: number[],
    exactRadii: Float64Array,
    found: BallCounts,
    limits: BallLimits,
  ): Promise<BallCounts>;
  /** Second look from the other side's points found in none of this side's balls (see balls.ts); returns `found` updated. */
  secondLook(
    radii: Float64Array,
    found: BallCounts,
    limits: BallLimits,
    onProgress?: OnProgress,
  ): Promise<BallCounts & { unchecked: number }>;
  /** The k nearest of this side's points to each of the other side's rows `rows`. */
  knn(rows: number[], k: number): Promise<Neighbours[]>;
  save(path: string): Promise<void>;
  close(): Promise<void>;
}

export class LocalIndexHost implements IndexHost {
  constructor(
    readonly own: VectorSet,
    readonly index: AnnIndex,
    readonly other: VectorSet,
  ) {}

  get size(): number {
    return this.own.ids.length;
  }

  static build(
    own: VectorSet,
    other: VectorSet,
    params: IndexParams,
    onProgress?: OnProgress,
    stage?: string,
  ): LocalIndexHost {
    return new LocalIndexHost(own, AnnIndex.build(own, params, onProgress, stage), other);
  }

  /** Loads `indexFile` when given (saved earlier from `own`'s rows; `params.efSearch` applies), else builds. */
  static open(
    own: VectorSet,
    other: VectorSet,
    params: IndexParams,
    indexFile?: string,
    onProgress?: OnProgress,
  ): LocalIndexHost {
    return indexFile
      ? LocalIndexHost.load(own, other, indexFile, params.efSearch)
      : LocalIndexHost.build(own, other, params, onProgress);
  }

  /** Over an index saved earlier (AnnIndex.save) from `own`'s rows; `efSearch` replaces the saved one when given. */
  static load(own: VectorSet, other: VectorSet, path: string, efSearch?: number): LocalIndexHost {
    const index = AnnIndex.load(path, efSearch);
    if (index.size !== own.ids.length || index.dim !== own.dim) {
      throw new UsageError(
        `${path}: an index of ${index.size} × ${index.dim}-d points, but ${own.source} has ${own.ids.length} × ${own.dim}-d`,
      );
    }
    const differs = index.firstMismatch(own);
    if (differs >= 0)
      throw new UsageError(`${path}: not an index of ${own.source}: its point ${differs} is not that row`);
    return new LocalIndexHost(own, index, other);
  }

  async tuneEf(k: number, goal: RecallTarget, onProgress?: OnProgress): Promise<EfTuning> {
    return tuneEfSearch(this.index, this.own, k, goal, onProgress);
  }

  async setEf(ef: number): Promise<void> {
    this.index.setEfSearch(ef);
  }

  async radii(k: number, onProgress?: OnProgress): Promise<Radii> {
    return knnRadii(this.own, this.index, k, onProgress);
  }

  async ballCounts(otherRadii: Float64Array, limits: BallLimits, onProgress?: OnProgress): Promise<BallCounts> {
    return ballCounts(this.other, otherRadii, this.own, this.index, limits, onProgress);
  }

  async exactRadii(rows: number[], k: number): Promise<Float64Array> {
    return exactRadiiOf(this.own, rows, k);
  }

  async recountBalls(
    otherRadii: Float64Array,
    rows: number[],
    exactRadii: Float64Array,
    found: BallCounts,
    limits: BallLimits,
  ): Promise<BallCounts> {
    return recountBalls(this.other, otherRadii, rows, exactRadii, this.own, this.index, found, limits);
  }

  async secondLook(
    radii: Float64Array,
    found: BallCounts,
    limits: BallLimits,
    onProgress?: OnProgress,
  ): Promise<BallCounts & { unchecked: number }> {
    const unchecked = secondLook(this.own, this.index, radii, this.other, found, limits, onProgress);
    return { ...found, unchecked };
  }

  async knn(rows: number[], k: number): Promise<Neighbours[]> {
    return rows.map((i) => this.index.knn(row(this.other, i), k));
  }

  async save(path: string): Promise<void> {
    this.index.save(path);
  }

  async close(): Promise<void> {}
}
