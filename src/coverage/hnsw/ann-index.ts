/**
 * Approximate nearest neighbours (hnswlib-node's HNSW graph, Euclidean) over a vector set: build, save, load,
 * k-NN queries, and recall@k against exact search on a sample.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import hnswlib from 'hnswlib-node';
import { UsageError } from '../../errors.js';
import { stageReporter, type OnProgress } from '../../progress.js';
import { exactNeighbours } from '../exact/exact-search.js';
import { NearestLists } from './nearest-lists.js';
import { row, squaredDistance, subset, type VectorSet } from '../vectors.js';

export interface IndexParams {
  /** Graph degree (hnswlib M, default 16). */
  m: number;
  efConstruction: number;
  efSearch: number;
}

export const DEFAULT_INDEX_PARAMS: IndexParams = { m: 16, efConstruction: 200, efSearch: 100 };

export interface Neighbours {
  ids: number[];
  /** Euclidean distances, ascending. */
  distances: number[];
}

export class AnnIndex {
  private constructor(
    private readonly index: hnswlib.HierarchicalNSW,
    readonly dim: number,
    readonly size: number,
    private current: IndexParams,
  ) {}

  get params(): IndexParams {
    return this.current;
  }

  /** The candidate list of every later query (ef-tuning.ts raises it until the index is accurate enough). */
  setEfSearch(ef: number): void {
    this.current = { ...this.current, efSearch: ef };
    this.index.setEf(ef);
  }

  static build(
    set: VectorSet,
    params: IndexParams = DEFAULT_INDEX_PARAMS,
    onProgress?: OnProgress,
    stage = 'index',
  ): AnnIndex {
    const n = set.ids.length;
    if (n === 0) throw new UsageError(`${set.source}: no vectors to index`);
    const index = new hnswlib.HierarchicalNSW('l2', set.dim);
    index.initIndex({ maxElements: n, m: params.m, efConstruction: params.efConstruction, randomSeed: 100 });
    const tick = stageReporter(onProgress, stage, n);
    for (let i = 0; i < n; i++) {
      index.addPoint(row(set, i), i);
      tick(i);
    }
    index.setEf(params.efSearch);
    return new AnnIndex(index, set.dim, n, params);
  }

  save(path: string): void {
    this.index.writeIndexSync(path);
    writeFileSync(`${path}.json`, JSON.stringify({ dim: this.dim, size: this.size, ...this.params }));
  }

  /** An index saved by `save` (the file and its `.json` beside it). */
  static load(path: string, efSearch?: number): AnnIndex {
    const { index, meta } = readSaved(path);
    const params = { m: meta.m, efConstruction: meta.efConstruction, efSearch: efSearch ?? meta.efSearch };
    index.setEf(params.efSearch);
    return new AnnIndex(index, meta.dim, meta.size, params);
  }

  /**
   * The first row of `set` (of up to `sample` evenly spaced ones) that differs from the vector this index stores under
   * its number, or -1 when all agree: an index saved from other rows of the same size and dimension is refused.
   */
  firstMismatch(set: VectorSet, sample = 32): number {
    for (const i of recallRows(set.ids.length, sample)) {
      const stored = this.index.getPoint(i);
      if (stored.some((x, j) => Math.fround(x) !== set.data[i * set.dim + j])) return i;
    }
    return -1;
  }

  /**
   * Adds points `rows` of `set` (the set this index was built from) again: hnswlib then recomputes their links and
   * their neighbours', which makes most points a query could not reach reachable (see knnRadii).
   */
  reinsert(set: VectorSet, rows: Iterable<number>): void {
    for (const i of rows) this.index.addPoint(row(set, i), i);
  }

  /** The k nearest indexed points to `query` (fewer when the index is smaller); `ef` widens this one search. */
  knn(query: number[], k: number, ef = 0): Neighbours {
    const kk = Math.min(k, this.size);
    // hnswlib needs ef ≥ k; raise it for this query only, so later small queries keep the configured speed.
    const wanted = Math.max(kk, ef);
    const widened = this.params.efSearch < wanted;
    if (widened) this.index.setEf(wanted);
    const r = this.index.searchKnn(query, kk);
    if (widened) this.index.setEf(this.params.efSearch);
    // hnswlib's 'l2' is the squared distance; results come farthest first in some versions: sort.
    const order = r.neighbors.map((_, i) => i).sort((a, b) => r.distances[a]! - r.distances[b]!);
    return {
      ids: order.map((i) => r.neighbors[i]!),
      distances: order.map((i) => Math.sqrt(Math.max(0, r.distances[i]!))),
    };
  }
}

type SavedMeta = IndexParams & { dim: number; size: number };

function readSaved(path: string): { index: hnswlib.HierarchicalNSW; meta: SavedMeta } {
  try {
    const meta = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as SavedMeta;
    const index = new hnswlib.HierarchicalNSW('l2', meta.dim);
    index.readIndexSync(path);
    return { index, meta };
  } catch (err) {
    throw new UsageError(
      `${path}: cannot load it as a tailguard index (the file and ${path}.json beside it, from an earlier run): ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** Exact k nearest neighbours of one query by a float64 loop over the set (checks, small sets; many queries: exact-search.ts). */
export function exactKnn(set: VectorSet, query: ArrayLike<number>, k: number): Neighbours {
  const kk = Math.min(k, set.ids.length);
  if (!kk) return { ids: [], distances: [] };
  const list = new NearestLists(1, kk);
  for (let i = 0; i < set.ids.length; i++)
    list.insert(0, i, Math.sqrt(squaredDistance(set.data, i, query, 0, set.dim)));
  return list.neighbours(0);
}

/** Up to `sample` evenly spaced rows of `n`: the queries of a recall check. */
export function recallRows(n: number, sample: number): number[] {
  const step = Math.max(1, Math.floor(n / sample));
  const rows: number[] = [];
  for (let i = 0; i < n && rows.length < sample; i += step) rows.push(i);
  return rows;
}

/** Mean share of the exact k nearest neighbours in `found` (the index's answers to the query rows `rows`). */
export async function recallAgainstExact(
  indexed: VectorSet,
  queries: VectorSet,
  rows: number[],
  found: Neighbours[],
  k: number,
): Promise<number> {
  const exact = await exactNeighbours(indexed, subset(queries, rows).data, k);
  let hit = 0;
  let total = 0;
  rows.forEach((_, t) => {
    const ids = new Set(exact[t]!.ids);
    for (const id of found[t]!.ids) if (ids.has(id)) hit++;
    total += Math.min(k, indexed.ids.length);
  });
  return total ? hit / total : 1;
}

/** Mean share of the exact k nearest neighbours the index returns, over `sample` queries drawn from `queries`. */
export async function recallAtK(
  index: AnnIndex,
  indexed: VectorSet,
  queries: VectorSet,
  k: number,
  sample: number,
): Promise<number> {
  const rows = recallRows(queries.ids.length, sample);
  return recallAgainstExact(
    indexed,
    queries,
    rows,
    rows.map((i) => index.knn(row(queries, i), k)),
    k,
  );
}
