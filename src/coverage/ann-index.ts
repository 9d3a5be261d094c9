/**
 * Approximate nearest neighbours (hnswlib-node's HNSW graph, Euclidean) over a vector set: build, save, load,
 * k-NN queries, and recall@k against exact search on a sample.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import hnswlib from 'hnswlib-node';
import { UsageError } from '../errors.js';
import { row, type VectorSet } from './vectors.js';

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
    readonly params: IndexParams,
  ) {}

  static build(set: VectorSet, params: IndexParams = DEFAULT_INDEX_PARAMS): AnnIndex {
    const n = set.ids.length;
    if (n === 0) throw new UsageError(`${set.source}: no vectors to index`);
    const index = new hnswlib.HierarchicalNSW('l2', set.dim);
    index.initIndex({ maxElements: n, m: params.m, efConstruction: params.efConstruction, randomSeed: 100 });
    for (let i = 0; i < n; i++) index.addPoint(row(set, i), i);
    index.setEf(params.efSearch);
    return new AnnIndex(index, set.dim, n, params);
  }

  save(path: string): void {
    this.index.writeIndexSync(path);
    writeFileSync(`${path}.json`, JSON.stringify({ dim: this.dim, size: this.size, ...this.params }));
  }

  static load(path: string, efSearch?: number): AnnIndex {
    const meta = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as IndexParams & { dim: number; size: number };
    const index = new hnswlib.HierarchicalNSW('l2', meta.dim);
    index.readIndexSync(path);
    const params = { m: meta.m, efConstruction: meta.efConstruction, efSearch: efSearch ?? meta.efSearch };
    index.setEf(params.efSearch);
    return new AnnIndex(index, meta.dim, meta.size, params);
  }

  /** The k nearest indexed points to `query` (fewer when the index is smaller). */
  knn(query: number[], k: number): Neighbours {
    const kk = Math.min(k, this.size);
    if (this.params.efSearch < kk) this.index.setEf(kk);
    const r = this.index.searchKnn(query, kk);
    // hnswlib's 'l2' is the squared distance; results come farthest first in some versions: sort.
    const order = r.neighbors.map((_, i) => i).sort((a, b) => r.distances[a]! - r.distances[b]!);
    return { ids: order.map((i) => r.neighbors[i]!), distances: order.map((i) => Math.sqrt(Math.max(0, r.distances[i]!))) };
  }
}

/** Exact k nearest neighbours by brute force (for recall checks and small sets). */
export function exactKnn(set: VectorSet, query: number[], k: number): Neighbours {
  const n = set.ids.length;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < set.dim; j++) s += (set.data[i * set.dim + j]! - query[j]!) ** 2;
    d[i] = Math.sqrt(s);
  }
  const ids = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[a]! - d[b]!).slice(0, k);
  return { ids, distances: ids.map((i) => d[i]!) };
}

/** Mean share of the exact k nearest neighbours the index returns, over `sample` queries drawn from `queries`. */
export function recallAtK(index: AnnIndex, indexed: VectorSet, queries: VectorSet, k: number, sample: number): number {
  const n = queries.ids.length;
  const step = Math.max(1, Math.floor(n / sample));
  let hit = 0;
  let total = 0;
  for (let i = 0; i < n && total < sample * k; i += step) {
    const q = row(queries, i);
    const exact = new Set(exactKnn(indexed, q, k).ids);
    for (const id of index.knn(q, k).ids) if (exact.has(id)) hit++;
    total += Math.min(k, indexed.ids.length);
  }
  return total ? hit / total : 1;
}
