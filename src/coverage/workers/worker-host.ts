/**
 * An IndexHost on a worker thread of its own: hnswlib-node builds and searches synchronously on the calling thread
 * and an index cannot be shared between threads, so each side's index lives in its own worker (index-worker.ts),
 * built there from vectors in shared memory, and the two sides' jobs of a coverage run go on at once.
 */
import type { Worker } from 'node:worker_threads';
import { TailguardError } from '../../errors.js';
import type { OnProgress } from '../../progress.js';
import { startWorker } from '../../worker-script.js';
import type { IndexParams, Neighbours } from '../hnsw/ann-index.js';
import type { BallCounts, BallLimits } from '../hnsw/balls.js';
import type { EfTuning, RecallTarget } from '../hnsw/ef-tuning.js';
import type { IndexHost } from './index-host.js';
import type { Radii } from '../hnsw/radii.js';
import { sharedVectors, type VectorSet } from '../vectors.js';

export interface HostWorkerData {
  own: VectorSet;
  other: VectorSet;
  params: IndexParams;
  /** An index saved earlier from `own` to load instead of building one. */
  indexFile?: string;
}

type Job =
  | { job: 'build' }
  | { job: 'tuneEf'; k: number; goal: RecallTarget }
  | { job: 'setEf'; ef: number }
  | { job: 'radii'; k: number }
  | { job: 'ballCounts'; otherRadii: Float64Array; limits: BallLimits }
  | { job: 'exactRadii'; rows: number[]; k: number }
  | {
      job: 'recountBalls';
      otherRadii: Float64Array;
      rows: number[];
      exactRadii: Float64Array;
      found: BallCounts;
      limits: BallLimits;
    }
  | { job: 'secondLook'; radii: Float64Array; found: BallCounts; limits: BallLimits }
  | { job: 'knn'; rows: number[]; k: number }
  | { job: 'save'; path: string };

export type HostRequest = Job & { id: number };

export interface HostReply {
  id: number;
  progress?: [stage: string, done: number, total: number];
  result?: unknown;
  error?: { name: string; message: string };
}

/** A job of an index worker failed, or the worker died. */
export class IndexWorkerError extends TailguardError {
  override name = 'IndexWorkerError';
  constructor(
    readonly side: string,
    message: string,
  ) {
    super(`${side} index worker: ${message}`);
  }
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  onProgress?: OnProgress;
}

export class WorkerIndexHost implements IndexHost {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited = false;

  private constructor(
    private readonly worker: Worker,
    private readonly side: string,
    readonly size: number,
  ) {
    worker.on('message', (m: HostReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.progress) return p.onProgress?.(...m.progress);
      this.pending.delete(m.id);
      if (m.error) p.reject(new IndexWorkerError(side, `${m.error.name}: ${m.error.message}`));
      else p.resolve(m.result);
    });
    const failAll = (e: Error) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', (e) => failAll(new IndexWorkerError(side, e.message)));
    worker.on('exit', (code) => failAll(new IndexWorkerError(side, `exited (code ${code}) with jobs unfinished`)));
  }

  /**
   * Starts a worker for the side `side` and builds its index there from `own`'s rows (shared, not copied), or loads
   * `indexFile` (saved earlier from the same rows).
   */
  static async start(
    side: string,
    own: VectorSet,
    other: VectorSet,
    params: IndexParams,
    onProgress?: OnProgress,
    indexFile?: string,
  ): Promise<WorkerIndexHost> {
    const workerData: HostWorkerData = {
      own: sharedVectors(own),
      other: sharedVectors(other),
      params,
      ...(indexFile ? { indexFile } : {}),
    };
    const worker = startWorker(import.meta.url, 'index-worker', workerData);
    const host = new WorkerIndexHost(worker, side, own.ids.length);
    try {
      await host.call({ job: 'build' }, onProgress);
    } catch (e) {
      await host.close();
      throw e;
    }
    return host;
  }

  private call<T>(job: Job, onProgress?: OnProgress): Promise<T> {
    if (this.exited) return Promise.reject(new IndexWorkerError(this.side, 'already stopped'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress });
      this.worker.postMessage({ id, ...job } satisfies HostRequest);
    });
  }

  tuneEf(k: number, goal: RecallTarget, onProgress?: OnProgress): Promise<EfTuning> {
    return this.call({ job: 'tuneEf', k, goal }, onProgress);
  }

  setEf(ef: number): Promise<void> {
    return this.call({ job: 'setEf', ef });
  }

  radii(k: number, onProgress?: OnProgress): Promise<Radii> {
    return this.call({ job: 'radii', k }, onProgress);
  }

  ballCounts(otherRadii: Float64Array, limits: BallLimits, onProgress?: OnProgress): Promise<BallCounts> {
    return this.call({ job: 'ballCounts', otherRadii, limits }, onProgress);
  }

  exactRadii(rows: number[], k: number): Promise<Float64Array> {
    return this.call({ job: 'exactRadii', rows, k });
  }

  recountBalls(
    otherRadii: Float64Array,
    rows: number[],
    exactRadii: Float64Array,
    found: BallCounts,
    limits: BallLimits,
  ): Promise<BallCounts> {
    return this.call({ job: 'recountBalls', otherRadii, rows, exactRadii, found, limits });
  }

  secondLook(
    radii: Float64Array,
    found: BallCounts,
    limits: BallLimits,
    onProgress?: OnProgress,
  ): Promise<BallCounts & { unchecked: number }> {
    return this.call({ job: 'secondLook', radii, found, limits }, onProgress);
  }

  knn(rows: number[], k: number): Promise<Neighbours[]> {
    return this.call({ job: 'knn', rows, k });
  }

  save(path: string): Promise<void> {
    return this.call({ job: 'save', path });
  }

  async close(): Promise<void> {
    this.exited = true;
    await this.worker.terminate();
  }
}
