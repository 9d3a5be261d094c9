/**
 * Coverage metrics on synthetic embeddings whose tails are known: the HNSW path against an exact brute-force
 * implementation of Naeem et al.'s definitions, a missing cluster showing up as uncovered reference points, and the
 * CLI on .npy files with id sidecars.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AnnIndex, exactKnn, recallAtK, type Neighbours } from '../../src/coverage/hnsw/ann-index.js';
import type { LocalIndexHost } from '../../src/coverage/workers/index-host.js';
import { buildIndexPair, localPair } from '../../src/coverage/workers/index-pair.js';
import { ballCounts, recountBalls } from '../../src/coverage/hnsw/balls.js';
import { prdc, type PrdcOptions } from '../../src/coverage/hnsw/prdc.js';
import { exactRadii, knnRadii, radiusOutliers, WIDE_EF } from '../../src/coverage/hnsw/radii.js';
import { row, squaredDistance, type VectorSet } from '../../src/coverage/vectors.js';
import { blobs, saveNpy } from './synthetic.js';
import { runCli, setArgs } from '../helpers/cli.js';

const DIM = 16;

/** Points around random centres in 16-d; cluster c gets weights[c] of the n points. */
const clustered = (n: number, weights: number[], seed: number) =>
  blobs(n, weights, seed, { dim: DIM, centresSeed: 99, centreScale: 1, spread: 0.35 });

/** Naeem et al.'s definitions, computed exactly (all pairs, float64). */
function exactPrdc(ref: VectorSet, cand: VectorSet, k: number) {
  const r = exactRadii(ref, k);
  const rc = exactRadii(cand, k);
  const dist = (a: VectorSet, i: number, b: VectorSet, j: number) => {
    let s = 0;
    for (let t = 0; t < DIM; t++) s += (a.data[i * DIM + t]! - b.data[j * DIM + t]!) ** 2;
    return Math.sqrt(s);
  };
  const N = ref.ids.length;
  const M = cand.ids.length;
  let precision = 0,
    density = 0,
    recall = 0,
    coverage = 0;
  const balls: number[] = [];
  const covered: number[] = [];
  for (let j = 0; j < M; j++) {
    let c = 0;
    for (let i = 0; i < N; i++) if (dist(cand, j, ref, i) <= r[i]!) c++;
    balls.push(c);
    density += c;
    if (c > 0) precision++;
  }
  for (let i = 0; i < N; i++) {
    let nearest = Infinity,
      inCand = false;
    for (let j = 0; j < M; j++) {
      const d = dist(ref, i, cand, j);
      nearest = Math.min(nearest, d);
      if (d <= rc[j]!) inCand = true;
    }
    covered.push(nearest <= r[i]! ? 1 : 0);
    if (nearest <= r[i]!) coverage++;
    if (inCand) recall++;
  }
  return {
    precision: precision / M,
    recall: recall / N,
    density: density / (k * M),
    coverage: coverage / N,
    balls,
    covered,
  };
}

/** The first kk of nb's neighbours that are not in hidden. */
function without(nb: Neighbours, hidden: ReadonlySet<number>, kk: number): Neighbours {
  const keep = nb.ids
    .map((_, t) => t)
    .filter((t) => !hidden.has(nb.ids[t]!))
    .slice(0, kk);
  return { ids: keep.map((t) => nb.ids[t]!), distances: keep.map((t) => nb.distances[t]!) };
}

/** prdc on one thread over indexes built already (or wrapped, as the tests below do). */
const prdcLocal = (ref: VectorSet, refIndex: AnnIndex, cand: VectorSet, candIndex: AnnIndex, opts: PrdcOptions) =>
  prdc(localPair(ref, refIndex, cand, candIndex), opts);

describe('prdc', () => {
  const ref = clustered(500, [1, 1, 1, 1, 1], 1);
  const full = clustered(400, [1, 1, 1, 1, 1], 2);
  const noTail = clustered(400, [1, 1, 1, 1, 0], 3);
  const k = 5;
  const refIndex = AnnIndex.build(ref);

  it('the HNSW path agrees with the exact definitions', async () => {
    for (const cand of [full, noTail]) {
      const got = await prdcLocal(ref, refIndex, cand, AnnIndex.build(cand), { k });
      const want = exactPrdc(ref, cand, k);
      expect(got.precision.value).toBeCloseTo(want.precision, 2);
      expect(got.recall.value).toBeCloseTo(want.recall, 2);
      expect(got.density.value).toBeCloseTo(want.density, 2);
      expect(got.coverage.value).toBeCloseTo(want.coverage, 2);
      expect(got.coverage.ci.lo).toBeLessThanOrEqual(got.coverage.value);
      expect(got.coverage.ci.hi).toBeGreaterThanOrEqual(got.coverage.value);
      // Per point too: at this size the index finds every ball member, so the counts are the exact ones.
      expect(Array.from(got.candidate.balls)).toEqual(want.balls);
      expect(Array.from(got.reference.covered)).toEqual(want.covered);
      expect(got.capped).toEqual({
        referenceBalls: 0,
        candidateBalls: 0,
        uncheckedCandidates: 0,
        uncheckedReference: 0,
      });
    }
  });

  it('points the index cannot reach are found out and counted by exact search', async () => {
    // An index that never returns points 3 and 17 (as HNSW does for a few poorly linked points) and cannot relink them.
    const hidden = new Set([3, 17]);
    const hiding = (index: AnnIndex): AnnIndex =>
      Object.assign(Object.create(index) as AnnIndex, {
        knn: (q: number[], kk: number) => without(index.knn(q, kk + hidden.size), hidden, kk),
        reinsert: () => undefined,
      });
    const radii = await knnRadii(ref, hiding(AnnIndex.build(ref)), k);
    expect(radii.unreachable).toEqual([3, 17]);
    const exact = exactRadii(ref, k);
    radii.radii.forEach((r, i) => expect(r).toBeCloseTo(exact[i]!, 6)); // theirs, and their neighbours'
    const want = exactPrdc(ref, noTail, k);
    const got = await prdcLocal(ref, hiding(AnnIndex.build(ref)), noTail, AnnIndex.build(noTail), { k });
    expect(got.unreachable.reference).toBe(2);
    expect(Array.from(got.candidate.balls)).toEqual(want.balls);
    expect(Array.from(got.reference.covered)).toEqual(want.covered);
    const gotC = await prdcLocal(ref, refIndex, noTail, hiding(AnnIndex.build(noTail)), { k });
    expect(gotC.unreachable.candidate).toBe(2);
    expect(Array.from(gotC.candidate.balls)).toEqual(want.balls);
    expect(Array.from(gotC.reference.covered)).toEqual(want.covered);
    expect(gotC.recall.value).toBeCloseTo(want.recall, 6);
  });

  it('points only a widened search reaches: radii from that search, memberships from the second look, no exact pass', async () => {
    // An index that returns points 3 and 17 only to a search with the wide candidate list.
    const hidden = new Set([3, 17]);
    const shy = (index: AnnIndex): AnnIndex =>
      Object.assign(Object.create(index) as AnnIndex, {
        knn: (q: number[], kk: number, ef = 0) => {
          if (ef >= WIDE_EF) return index.knn(q, kk, ef);
          return without(index.knn(q, kk + hidden.size), hidden, kk);
        },
        reinsert: () => undefined,
      });
    const radii = await knnRadii(ref, shy(AnnIndex.build(ref)), k);
    expect(radii.unreachable).toEqual([]);
    expect(radii.widened).toBe(2);
    const exact = exactRadii(ref, k);
    radii.radii.forEach((r, i) => expect(r).toBeCloseTo(exact[i]!, 6)); // theirs, and their neighbours'
    const want = exactPrdc(ref, noTail, k);
    const got = await prdcLocal(ref, refIndex, noTail, shy(AnnIndex.build(noTail)), { k });
    expect(got.widened).toEqual({ reference: 0, candidate: 2 });
    expect(Array.from(got.candidate.balls)).toEqual(want.balls);
    expect(Array.from(got.reference.covered)).toEqual(want.covered);
    expect(got.recall.value).toBeCloseTo(want.recall, 6);
    const gotR = await prdcLocal(ref, shy(AnnIndex.build(ref)), noTail, AnnIndex.build(noTail), { k });
    expect(gotR.widened).toEqual({ reference: 2, candidate: 0 });
    expect(Array.from(gotR.candidate.balls)).toEqual(want.balls);
    expect(Array.from(gotR.reference.covered)).toEqual(want.covered);
  });

  it('a point whose own search misses its neighbours gets its radius from theirs, which find it', async () => {
    // An index whose search from point 5's position returns point 5 and then only far points (links leading away).
    const exact = exactRadii(ref, k);
    const astray = (index: AnnIndex): AnnIndex =>
      Object.assign(Object.create(index) as AnnIndex, {
        knn: (q: number[], kk: number, ef?: number) => {
          const nb = index.knn(q, kk, ef);
          if (nb.ids[0] !== 5 || nb.distances[0] !== 0) return nb;
          const far = index.knn(q, 60, ef);
          return { ids: [5, ...far.ids.slice(60 - kk + 1)], distances: [0, ...far.distances.slice(60 - kk + 1)] };
        },
      });
    const radii = await knnRadii(ref, astray(AnnIndex.build(ref)), k);
    expect(radii.unreachable).toEqual([]);
    radii.radii.forEach((r, i) => expect(r).toBeCloseTo(exact[i]!, 6));
  });

  it("a radius far above its neighbours' is recomputed by exact search", async () => {
    // Point 5's own search returns it and then only far points, and no other point's ordinary search returns it: its
    // radius comes out too large and the reverse lists cannot mend it; nor can a wider search through the same index.
    const exact = exactRadii(ref, k);
    const blind = (index: AnnIndex): AnnIndex =>
      Object.assign(Object.create(index) as AnnIndex, {
        knn: (q: number[], kk: number, ef = 0) => {
          const nb = index.knn(q, kk + 1, ef);
          if (nb.ids[0] === 5 && nb.distances[0] === 0) {
            const far = index.knn(q, 60, ef);
            return { ids: [5, ...far.ids.slice(60 - kk + 1)], distances: [0, ...far.distances.slice(60 - kk + 1)] };
          }
          return without(nb, new Set([5]), kk);
        },
      });
    const radii = await knnRadii(ref, blind(AnnIndex.build(ref)), k);
    expect(radii.unreachable).toEqual([]);
    expect(radii.outliers.flagged).toBeGreaterThanOrEqual(1);
    expect(radii.outliers.corrected).toBeGreaterThanOrEqual(1);
    radii.radii.forEach((r, i) => expect(r).toBeCloseTo(exact[i]!, 6)); // point 5's, and its neighbours' (which lacked it)
    // On an honest index nothing is corrected.
    expect((await knnRadii(ref, refIndex, k)).outliers.corrected).toBe(0);
  });

  it("radius outliers: ratio to the neighbours' median radius, against the set's typical ratio, largest first, capped", () => {
    // k = 2; point 0's radius is 2 where its neighbours' are 1; point 3's is 1.05× (within 7% of typical: not flagged).
    const lists = (radius: number[], ids: number[]) => ({
      ids: Int32Array.from(ids),
      radius: (i: number) => radius[i]!,
    });
    const six = lists([2, 1, 1, 1.05, 1, 1], [1, 2, 0, 2, 0, 1, 4, 5, 3, 5, 3, 4]);
    expect(radiusOutliers(six, 6, 2)).toEqual([0]);
    expect(radiusOutliers(six, 6, 2, [0])).toEqual([]);
    // The same shape at twice the typical ratio (every radius 1.5× its neighbours'): relative to that, only 0 again.
    const scaled = lists([3, 1, 1, 1, 1, 1], [1, 2, 0, 2, 0, 1, 4, 5, 3, 5, 3, 4]);
    expect(radiusOutliers(scaled, 6, 2)).toEqual([0]);
    // 10,000 points in a ring, each listing the next two, radius 1; every 50th point (200) stands out, a little more
    // the later it comes: the cap (1% = 100) keeps the 100 largest.
    const ring = Array.from({ length: 10_000 }, (_, i) => (i % 50 === 0 ? 2 + i / 1e4 : 1));
    const flagged = radiusOutliers(
      lists(
        ring,
        ring.flatMap((_, i) => [(i + 1) % 1e4, (i + 2) % 1e4]),
      ),
      1e4,
      2,
    );
    expect(flagged).toHaveLength(100);
    expect(flagged[0]).toBe(9950);
    expect(flagged.every((i) => i % 50 === 0 && i >= 5000)).toBe(true);
  });

  it('exact copies of a point are not mistaken for unreachable points', async () => {
    const copies = clustered(200, [1, 1], 8);
    for (let i = 1; i < 30; i++) copies.data.copyWithin(i * DIM, 0, DIM); // rows 0..29 identical
    const radii = await knnRadii(copies, AnnIndex.build(copies), k);
    expect(radii.unreachable).toEqual([]);
    for (let i = 0; i < 30; i++) expect(radii.radii[i]).toBe(0);
  });

  it('balls larger than maxProbe are counted exactly; beyond maxExactBalls, counted to the cap and reported, only density a lower bound', async () => {
    // A candidate 4× denser than the reference: reference balls hold ≈4k = 20 candidates.
    const dense = clustered(2000, [1, 1, 1, 1, 1], 7);
    const denseIndex = AnnIndex.build(dense);
    const want = exactPrdc(ref, dense, k);
    // A cap of 32: the balls over it get exact radii and exact counts, so all four metrics are right.
    const got = await prdcLocal(ref, refIndex, dense, denseIndex, { k, probe: 8, maxProbe: 32 });
    expect(got.exactBalls.reference.counted).toBeGreaterThan(50);
    expect(got.exactBalls.reference.shrunk).toBe(0); // an honest index: the radii were right, the balls are dense
    expect(got.capped).toEqual({ referenceBalls: 0, candidateBalls: 0, uncheckedCandidates: 0, uncheckedReference: 0 });
    for (const m of ['precision', 'recall', 'density', 'coverage'] as const)
      expect(got[m].value).toBeCloseTo(want[m], 2);
    // None counted exactly: the capped balls are counted to the cap; the points they miss are checked from their own
    // side, so only density is low.
    const capped = await prdcLocal(ref, refIndex, dense, denseIndex, { k, probe: 8, maxProbe: 32, maxExactBalls: 0 });
    expect(capped.exactBalls.reference.counted).toBe(0);
    expect(capped.capped.referenceBalls).toBe(got.exactBalls.reference.counted);
    expect(capped.capped.uncheckedCandidates).toBe(0);
    expect(capped.density.value).toBeLessThan(want.density - 0.02);
    expect(capped.precision.value).toBeCloseTo(want.precision, 2);
    expect(capped.recall.value).toBeCloseTo(want.recall, 2);
    expect(capped.coverage.value).toBeCloseTo(want.coverage, 2);
    // Some counted exactly, the rest capped.
    const some = await prdcLocal(ref, refIndex, dense, denseIndex, { k, probe: 8, maxProbe: 32, maxExactBalls: 10 });
    expect(some.exactBalls.reference.counted).toBe(10);
    expect(some.capped.referenceBalls).toBe(got.exactBalls.reference.counted - 10);
    expect(some.density.value).toBeGreaterThan(capped.density.value);
    // A cap of 16 is hit by the checks too: those points count as outside, and the report says how many.
    const tight = await prdcLocal(ref, refIndex, dense, denseIndex, { k, probe: 8, maxProbe: 16, maxExactBalls: 0 });
    expect(tight.capped.uncheckedCandidates).toBeGreaterThan(0);
    expect(tight.precision.value).toBeLessThanOrEqual(want.precision + 0.005);
    expect(tight.precision.value + tight.capped.uncheckedCandidates / dense.ids.length).toBeGreaterThanOrEqual(
      want.precision - 0.005,
    );
    const uncapped = await prdcLocal(ref, refIndex, dense, denseIndex, { k });
    expect(uncapped.capped).toEqual({
      referenceBalls: 0,
      candidateBalls: 0,
      uncheckedCandidates: 0,
      uncheckedReference: 0,
    });
    expect(uncapped.exactBalls.reference.counted).toBe(0);
    expect(uncapped.density.value).toBeCloseTo(want.density, 2);
  });

  it('a capped ball whose radius was too large: its members taken back, then counted exactly with the exact radius', async () => {
    const exact = exactRadii(ref, k);
    const limits = { probe: 8, maxProbe: 32 };
    const fullIndex = AnnIndex.build(full);
    const withRadius5 = (r5: number) => Float64Array.from(exact, (r, i) => (i === 5 ? r5 : r));
    const inflated = withRadius5(exact[5]! * 3); // in 16-d, three times the radius holds far more than 32
    const found = ballCounts(ref, inflated, full, fullIndex, limits);
    expect(found.cappedRows).toContain(5);
    const others = ballCounts(ref, withRadius5(-1), full, fullIndex, limits); // ball 5 empty, the rest as before
    const got = await recountBalls(
      ref,
      inflated,
      [5],
      Float64Array.of(exact[5]!),
      full,
      fullIndex,
      ballCounts(ref, inflated, full, fullIndex, limits),
      limits,
    );
    expect(got.cappedRows).toEqual(found.cappedRows.filter((c) => c !== 5));
    const inBall5 = Array.from({ length: full.ids.length }, (_, m) =>
      Math.sqrt(squaredDistance(full.data, m, ref.data, 5, DIM)) <= exact[5]! ? 1 : 0,
    );
    expect(inBall5.reduce((a: number, b) => a + b, 0)).toBeGreaterThan(0);
    expect(Array.from(got.counts, (c, m) => c - others.counts[m]!)).toEqual(inBall5);
    expect(got.nearest[5]).toBeCloseTo(exactKnn(full, row(ref, 5), 1).distances[0]!, 6);
  });

  it('a candidate from the same distribution: high coverage, density near 1', async () => {
    const got = await prdcLocal(ref, refIndex, full, AnnIndex.build(full), { k });
    expect(got.coverage.value).toBeGreaterThan(0.9);
    expect(got.precision.value).toBeGreaterThan(0.85);
    expect(got.density.value).toBeGreaterThan(0.7);
    expect(got.density.value).toBeLessThan(1.3);
  });

  it("a candidate missing one of five clusters: that cluster's reference points are uncovered, the rest covered", async () => {
    const got = await prdcLocal(ref, refIndex, noTail, AnnIndex.build(noTail), { k });
    const inTail = ref.cluster.map((c) => c === 4);
    const tailCovered = inTail.filter((t, i) => t && got.reference.covered[i]).length / inTail.filter(Boolean).length;
    const restCovered =
      inTail.filter((t, i) => !t && got.reference.covered[i]).length / inTail.filter((t) => !t).length;
    expect(tailCovered).toBeLessThan(0.05);
    expect(restCovered).toBeGreaterThan(0.9);
    expect(got.coverage.value).toBeLessThan(0.82);
    expect(got.recall.value).toBeLessThan(0.85);
    expect(got.precision.value).toBeGreaterThan(0.85); // what it has is human-like
  });

  it('index recall@k against exact search, saved and reloaded', async () => {
    expect(await recallAtK(refIndex, ref, full, 10, 50)).toBeGreaterThan(0.95);
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-hnsw-'));
    refIndex.save(join(dir, 'i.hnsw'));
    const again = AnnIndex.load(join(dir, 'i.hnsw'));
    expect(again.knn(row(full, 0), 5)).toEqual(refIndex.knn(row(full, 0), 5));
  });

  it('a worker thread per index gives the same numbers as one thread, point for point (capped balls too)', async () => {
    const dense = clustered(2000, [1, 1, 1, 1, 1], 7);
    const cases: [VectorSet, PrdcOptions][] = [
      [noTail, { k }],
      [dense, { k, probe: 8, maxProbe: 32, maxExactBalls: 10 }],
    ];
    for (const [cand, opts] of cases) {
      const stages = new Map<string, [number, number]>();
      const one = await buildIndexPair(ref, cand, { threads: 1 });
      const two = await buildIndexPair(ref, cand, {
        threads: 2,
        onProgress: (s, done, total) => stages.set(s, [done, total]),
      });
      try {
        const want = await prdc(one, opts);
        expect(await prdc(two, { ...opts, onProgress: (s, done, total) => stages.set(s, [done, total]) })).toEqual(
          want,
        );
        if (opts.maxProbe) expect(want.exactBalls.reference.counted + want.capped.referenceBalls).toBeGreaterThan(0);
        expect(await two.reference.knn([0, 7, 9], 5)).toEqual(await one.reference.knn([0, 7, 9], 5));
      } finally {
        await two.close();
      }
      // Both sides' progress as one stage each, ending at the sum of their sizes.
      const both = ref.ids.length + cand.ids.length;
      const sample = Math.min(200, ref.ids.length) + Math.min(200, cand.ids.length); // ef tuning's brute-force sample
      expect(Object.fromEntries(stages)).toEqual({
        'index builds': [both, both],
        'ef tuning': [sample, sample],
        radii: [both, both],
        'ball queries': [both, both],
        'second look': [both, both],
      });
    }
  });

  it('indexes saved from a pair load into a new one (either thread mode) and give the same numbers; a mismatched file is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-pair-'));
    const files = { reference: join(dir, 'r.hnsw'), candidate: join(dir, 'c.hnsw') };
    const built = await buildIndexPair(ref, noTail, { threads: 1 });
    await built.reference.save(files.reference);
    await built.candidate.save(files.candidate);
    const want = await prdc(built, { k });
    for (const threads of [1, 2]) {
      const stages: string[] = [];
      const loaded = await buildIndexPair(ref, noTail, {
        threads,
        indexFiles: files,
        onProgress: (s) => stages.push(s),
      });
      try {
        expect(await prdc(loaded, { k })).toEqual(want);
      } finally {
        await loaded.close();
      }
      expect(stages.filter((s) => s === 'index builds').length).toBeLessThanOrEqual(1); // no build progress beyond the start
    }
    await expect(
      buildIndexPair(noTail, ref, { threads: 1, indexFiles: { reference: files.reference } }),
    ).rejects.toThrow(/r\.hnsw: an index of 500 × 16-d points, but synthetic has 400 × 16-d/);
    await expect(
      buildIndexPair(noTail, ref, { threads: 2, indexFiles: { reference: files.reference } }),
    ).rejects.toThrow(/reference index worker: .*an index of 500/);
  });

  it("the reference side's ef and radii, reused against another candidate set, give the numbers computed afresh", async () => {
    // A low starting ef, so that tuning raises it and the reused run must set it on its fresh index.
    const params = { m: 4, efConstruction: 16, efSearch: 6 };
    const goal = { target: 0.999 };
    const first = await buildIndexPair(ref, full, { threads: 1, params });
    const side = (await prdc(first, { k, indexRecall: goal })).referenceSide;
    expect(side.efSearch.ef).toBeGreaterThan(params.efSearch);
    const afresh = await prdc(await buildIndexPair(ref, noTail, { threads: 1, params }), { k, indexRecall: goal });
    const local = await buildIndexPair(ref, noTail, { threads: 1, params });
    expect(await prdc(local, { k, indexRecall: goal, referenceSide: side })).toEqual(afresh);
    expect((local.reference as LocalIndexHost).index.params.efSearch).toBe(side.efSearch.ef);
    const pair = await buildIndexPair(ref, noTail, { threads: 2, params });
    const stages = new Map<string, [number, number]>();
    try {
      const reused = await prdc(pair, {
        k,
        indexRecall: goal,
        referenceSide: side,
        onProgress: (s, done, total) => stages.set(s, [done, total]),
      });
      expect(reused).toEqual(afresh);
      await expect(prdc(pair, { k: 3, referenceSide: side })).rejects.toThrow(
        /referenceSide: radii of 500 points with k = 5, but the reference has 500 points and k is 3/,
      );
    } finally {
      await pair.close();
    }
    // Only the candidate's ef tuning and radii were done.
    expect(stages.get('ef tuning')).toEqual([200, 200]);
    expect(stages.get('radii')).toEqual([noTail.ids.length, noTail.ids.length]);
  });

  it('a failing worker job rejects with the side named, and the pair can still be closed', async () => {
    const pair = await buildIndexPair(ref, noTail, { threads: 2 });
    try {
      await expect(pair.reference.save('/nonexistent-dir/i.hnsw')).rejects.toThrow(
        /reference index worker: .*nonexistent-dir/,
      );
      expect((await pair.candidate.radii(k)).radii).toHaveLength(noTail.ids.length); // the other side goes on
    } finally {
      await pair.close();
    }
  });
});

describe('tailguard coverage', () => {
  it('reads .npy files with id sidecars and writes report.json with the four metrics and per-document rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-cov-'));
    const ref = clustered(300, [1, 1, 1], 5);
    saveNpy(
      join(dir, 'ref'),
      ref,
      ref.ids.map((id) => `ref-${id}`),
    );
    saveNpy(join(dir, 'cand'), clustered(200, [1, 1, 0], 6));
    const r = runCli([
      'coverage',
      // The absent region's coverage of exactly 0 is a fact of the rows as loaded: whitening (the default) brings
      // these well-separated blobs closer relative to their spread (docs/coverage.md, the anchor frame's limits).
      '--no-whiten',
      ...setArgs(dir, { clusters: 3 }),
      '--k',
      '5',
      '--json',
      '--search',
      'hnsw',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8'));
    for (const m of ['precision', 'recall', 'density', 'coverage']) {
      expect(report[m].value).toBeGreaterThanOrEqual(0);
      expect(report[m].ci.lo).toBeLessThanOrEqual(report[m].ci.hi);
    }
    expect(report.coverage.value).toBeLessThan(0.75); // a third of the reference is a cluster the candidate lacks
    expect(report.index.recall_at_k).toBeGreaterThan(0.9);
    expect(report.max_probe).toBe(4096);
    expect(report.capped).toEqual({
      reference_balls: 0,
      candidate_balls: 0,
      unchecked_candidates: 0,
      unchecked_reference: 0,
    });
    expect(report.exact_balls).toEqual({ reference: { counted: 0, shrunk: 0 }, candidate: { counted: 0, shrunk: 0 } });
    // An honest index on easy data: outlying radii may be rechecked, none found too large.
    for (const side of ['reference', 'candidate']) expect(report.index.radius_outliers[side].corrected).toBe(0);
    const { reference: ro, candidate: co } = report.index.radius_outliers;
    expect(r.stderr).toContain(
      `${ro.flagged + co.flagged} outlying radii recomputed by exact search, 0 of them too large`,
    );
    const refRows = readFileSync(join(dir, 'out', 'reference.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(refRows).toHaveLength(300);
    expect(refRows[0].id).toBe('ref-p0');
    const candRows = readFileSync(join(dir, 'out', 'candidate.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(candRows[0].id).toBe('0'); // no sidecar: row numbers
    expect(JSON.parse(r.stdout).k).toBe(5);
    for (const stage of [
      'index builds: 500 points',
      'ef tuning: 400 points',
      'radii: 500 points',
      'ball queries: 500 points',
      'second look: 500 points',
    ]) {
      expect(r.stderr).toContain(`tailguard: ${stage}`); // progress, stage by stage (a line each when not a terminal)
    }
    // The region the candidate lacks is found as a tail: absent, with a third of the reference and no coverage.
    const absent = report.clusters.filter((c: { status: string }) => c.status === 'absent');
    expect(absent.length).toBeGreaterThanOrEqual(1);
    const share = absent.reduce((a: number, c: { reference_share: number }) => a + c.reference_share, 0);
    expect(share).toBeGreaterThan(0.25);
    expect(share).toBeLessThan(0.42);
    for (const c of absent) expect(c.coverage).toBe(0);
    expect(report.tails).toEqual(expect.arrayContaining(absent.map((c: { cluster: number }) => c.cluster)));
  });

  it('balls over --max-probe: counted exactly, in report.json exact_balls and on stderr; none left capped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-cov-'));
    saveNpy(join(dir, 'ref'), clustered(200, [1, 1], 5));
    saveNpy(join(dir, 'cand'), clustered(1000, [1, 1], 6)); // 5× denser: reference balls hold ≈25
    const r = runCli(['coverage', ...setArgs(dir, { clusters: 2 }), '--max-probe', '12']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8'));
    const counted = report.exact_balls.reference.counted;
    expect(counted).toBeGreaterThan(50);
    expect(report.capped.reference_balls).toBe(0);
    expect(r.stderr).toContain(
      `; ${counted + report.exact_balls.candidate.counted} balls over --max-probe 12 points counted exactly, 0 of their radii too large`,
    );
    expect(r.stderr).not.toContain('density is a lower bound');
    expect(readFileSync(join(dir, 'out', 'report.html'), 'utf8')).toContain(
      `${counted + report.exact_balls.candidate.counted} balls held more than 12 points and were counted exactly (0 of their radii too large).`,
    );
  });

  it('--reference-index loads the index an earlier run saved: same numbers; one of other rows or a missing file is refused (exit 2)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-cov-'));
    const ref = clustered(300, [1, 1, 1], 5);
    saveNpy(join(dir, 'ref'), ref);
    saveNpy(join(dir, 'cand'), clustered(200, [1, 1, 0], 6));
    saveNpy(join(dir, 'other'), clustered(300, [1, 1, 1], 9));
    const cli = (reference: string, out: string, ...more: string[]) =>
      runCli(['coverage', ...setArgs(dir, { reference, out, clusters: 3 }), '--quiet', ...more]);
    const metrics = (out: string) => {
      const r = JSON.parse(readFileSync(join(dir, out, 'report.json'), 'utf8'));
      return [r.precision, r.recall, r.density, r.coverage, r.index.unreachable];
    };
    expect(cli('ref.npy', 'first', '--search', 'hnsw').status).toBe(0);
    const again = cli('ref.npy', 'again', '--reference-index', join(dir, 'first', 'reference.hnsw'));
    expect(again.status, again.stderr).toBe(0);
    expect(metrics('again')).toEqual(metrics('first'));
    const other = cli('other.npy', 'other', '--reference-index', join(dir, 'first', 'reference.hnsw'));
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/reference\.hnsw: not an index of .*other\.npy: its point 0 is not that row/);
    const missing = cli('ref.npy', 'missing', '--reference-index', join(dir, 'nowhere.hnsw'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/nowhere\.hnsw: cannot load it as a tailguard index/);
  });

  it('an index held below --index-recall by --max-ef-search: exit 0, said on stderr even with --quiet, and in report.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-cov-'));
    const noise = (n: number, seed: number) =>
      blobs(n, [1], seed, { dim: 48, centresSeed: 3, centreScale: 1, spread: 2 });
    saveNpy(join(dir, 'ref'), noise(800, 1));
    saveNpy(join(dir, 'cand'), noise(600, 2));
    const r = runCli([
      'coverage',
      ...setArgs(dir, { clusters: 2 }),
      '--m',
      '4',
      '--ef-construction',
      '8',
      '--ef-search',
      '6',
      '--max-ef-search',
      '12',
      '--index-recall',
      '0.99',
      '--quiet',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const t = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8')).index.ef_tuning;
    for (const side of ['reference', 'candidate']) {
      expect(t[side]).toMatchObject({ ef: 12, target: 0.99, reached: false, sample: 200 });
      expect(t[side].tried.map((x: { ef: number }) => x.ef)).toEqual([6, 12]);
      expect(r.stderr).toContain(
        `tailguard: the ${side} index reaches self-query recall ${t[side].recall.toFixed(3)} < 0.99 at --max-ef-search 12`,
      );
    }
    expect(readFileSync(join(dir, 'out', 'report.html'), 'utf8')).toContain(
      'the reference and candidate indexes stopped short of the target',
    );
  });
});
