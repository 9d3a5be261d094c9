/**
 * ef tuning on a set hard for a sparse graph (isotropic 48-d noise, M 8, efConstruction 16): recall measured against an independent
 * brute force, ef doubled until the target, the cap honoured and said, and radii that come out exact once tuned.
 */
import { describe, expect, it } from 'vitest';
import { AnnIndex, recallRows } from '../../src/coverage/hnsw/ann-index.js';
import { tuneEfSearch } from '../../src/coverage/hnsw/ef-tuning.js';
import { exactRadii, knnRadii } from '../../src/coverage/hnsw/radii.js';
import type { VectorSet } from '../../src/coverage/vectors.js';
import { blobs } from './synthetic.js';

const hard = blobs(3000, [1], 7, { dim: 48, centresSeed: 3, centreScale: 1, spread: 2 });
const sparse = { m: 8, efConstruction: 16, efSearch: 6 };
const k = 5;

/** Recall@(k+1) of the index's self-queries at `ef`, by sorting every distance (no shared code with the tuner). */
function referenceRecall(set: VectorSet, index: AnnIndex, rows: number[], ef: number): number {
  index.setEfSearch(ef);
  let hits = 0;
  for (const i of rows) {
    const all: number[] = [];
    for (let j = 0; j < set.ids.length; j++) {
      let s = 0;
      for (let t = 0; t < set.dim; t++) s += (set.data[i * set.dim + t]! - set.data[j * set.dim + t]!) ** 2;
      all.push(Math.sqrt(s));
    }
    const kth = all.sort((a, b) => a - b)[k]!;
    hits += index
      .knn(Array.from(set.data.subarray(i * set.dim, (i + 1) * set.dim)), k + 1)
      .distances.filter((d) => d <= kth * (1 + 1e-5)).length;
  }
  return hits / (rows.length * (k + 1));
}

describe('tuneEfSearch', () => {
  it('doubles ef until the sample reaches the target, and the index keeps that ef', async () => {
    const index = AnnIndex.build(hard, sparse);
    const rows = recallRows(hard.ids.length, 100);
    const t = await tuneEfSearch(index, hard, k, { target: 0.99, maxEf: 3200, sample: 100 });
    expect(t.tried[0]!.recall).toBeLessThan(0.9); // the configured ef is far from enough here
    expect(t.tried.map((x) => x.ef)).toEqual(t.tried.map((_, s) => 6 * 2 ** s));
    const same = AnnIndex.build(hard, sparse); // hnswlib builds deterministically (fixed seed, one thread)
    for (const x of t.tried) expect(x.recall).toBeCloseTo(referenceRecall(hard, same, rows, x.ef), 10);
    expect(t.reached).toBe(true);
    expect(t.recall).toBeGreaterThanOrEqual(0.99);
    expect(t.tried.at(-2)!.recall).toBeLessThan(0.99); // the first ef that reaches it, not a larger one
    expect(t).toMatchObject({ ef: t.tried.at(-1)!.ef, sample: 100, target: 0.99 });
    expect(index.params.efSearch).toBe(t.ef);
  });

  it('stops at the cap and says the target was not reached', async () => {
    const index = AnnIndex.build(hard, sparse);
    const t = await tuneEfSearch(index, hard, k, { target: 1, maxEf: 20, sample: 50 });
    expect(t.tried.map((x) => x.ef)).toEqual([6, 12, 20]);
    expect(t).toMatchObject({ ef: 20, reached: false, target: 1 });
    expect(t.recall).toBeLessThan(1);
    expect(index.params.efSearch).toBe(20);
  });

  it('target 0 measures the configured ef and keeps it', async () => {
    const index = AnnIndex.build(hard, sparse);
    const t = await tuneEfSearch(index, hard, k, { target: 0, maxEf: 3200, sample: 50 });
    expect(t.tried).toHaveLength(1);
    expect(t).toMatchObject({ ef: 6, reached: true });
  });

  it('once tuned, nearly every radius is the exact one (and none is smaller)', async () => {
    const exact = exactRadii(hard, k);
    const share = async (index: AnnIndex) => {
      const r = (await knnRadii(hard, index, k)).radii;
      r.forEach((x, i) => expect(x).toBeGreaterThanOrEqual(exact[i]! * (1 - 1e-6)));
      return r.filter((x, i) => Math.abs(x - exact[i]!) <= 1e-6 * exact[i]!).length / r.length;
    };
    const untuned = await share(AnnIndex.build(hard, sparse));
    const index = AnnIndex.build(hard, sparse);
    await tuneEfSearch(index, hard, k, { target: 0.99, maxEf: 3200, sample: 100 });
    const tuned = await share(index);
    expect(untuned).toBeLessThan(0.7);
    expect(tuned).toBeGreaterThan(0.95);
  });
});
