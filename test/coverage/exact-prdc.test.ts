/**
 * Exact coverage search (src/coverage/exact/): per point, radii, ball counts, recall flags and nearest candidates
 * equal a float64 loop over every pair (cosine and Euclidean rows, ties and copies, several k and block sizes,
 * rows far from the origin); k-means regions from the tiles equal to the float64 loop's; a hand-checked example for each metric; the same numbers as the HNSW path on a small
 * set; the prdc paper's own example (Naeem et al. 2020: 10k vs 10k standard normals, 1000-d, k = 5); and how
 * `--search auto` chooses.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coverageRun } from '../../src/coverage/coverage-run.js';
import { assignAll, kmeans, kmeansWith } from '../../src/coverage/clusters.js';
import { f32Above, f32Below } from '../../src/coverage/exact/blocks.js';
import { nearestCentroids } from '../../src/coverage/exact/centroids.js';
import { exactPrdc } from '../../src/coverage/exact/exact-prdc.js';
import { TileRunner } from '../../src/coverage/exact/tiles.js';
import { buildIndexPair } from '../../src/coverage/workers/index-pair.js';
import { prdc } from '../../src/coverage/hnsw/prdc.js';
import { exactRadii } from '../../src/coverage/hnsw/radii.js';
import {
  afterDevice,
  chooseSearch,
  EXACT_WORK_BUDGET,
  exactWork,
  hnswOptionsGiven,
} from '../../src/coverage/search-choice.js';
import { sharedVectors, squaredDistance, type VectorSet } from '../../src/coverage/vectors.js';
import { UsageError } from '../../src/errors.js';
import { gaussian, mulberry32 } from '../../src/random.js';
import { blobs, saveNpy } from './synthetic.js';
import { runCli, setArgs } from '../helpers/cli.js';

/** The definitions by a float64 loop over every pair (squaredDistance, Math.sqrt, ≤ the radius). */
function bruteForce(ref: VectorSet, cand: VectorSet, k: number) {
  const r = exactRadii(ref, k);
  const rc = exactRadii(cand, k);
  const N = ref.ids.length;
  const M = cand.ids.length;
  const balls = new Array<number>(M).fill(0);
  const inCand = new Array<number>(N).fill(0);
  const nearest = new Array<number>(N).fill(Infinity);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < M; j++) {
      const d = Math.sqrt(squaredDistance(ref.data, i, cand.data, j, ref.dim));
      if (d <= r[i]!) balls[j]!++;
      if (d <= rc[j]!) inCand[i] = 1;
      nearest[i] = Math.min(nearest[i]!, d);
    }
  }
  return {
    r: Array.from(r),
    rc: Array.from(rc),
    balls,
    inCand,
    nearest,
    covered: nearest.map((d, i) => (d <= r[i]! ? 1 : 0)),
  };
}

async function expectExact(ref: VectorSet, cand: VectorSet, k: number, tile: number) {
  const got = await exactPrdc(ref, cand, { k, tile, threads: 2 });
  const want = bruteForce(ref, cand, k);
  expect(Array.from(got.reference.radius)).toEqual(want.r);
  expect(Array.from(got.candidate.radius)).toEqual(want.rc);
  expect(Array.from(got.candidate.balls)).toEqual(want.balls);
  expect(Array.from(got.reference.inCandidateManifold)).toEqual(want.inCand);
  expect(Array.from(got.reference.nearestCandidate)).toEqual(want.nearest);
  expect(Array.from(got.reference.covered)).toEqual(want.covered);
  return got;
}

/** Rows of `dim` floats from `gen`. */
function rows(n: number, dim: number, gen: (i: number, j: number) => number, source = 'synthetic'): VectorSet {
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) data[i * dim + j] = gen(i, j);
  return { source, ids: Array.from({ length: n }, (_, i) => String(i)), dim, data };
}

describe('exact search equals a float64 loop over every pair', () => {
  it('cosine (L2-normalised rows), several k and block sizes (partial blocks, one block, blocks of one row)', async () => {
    const ref = blobs(230, [1, 1, 1], 5, { dim: 24, centresSeed: 7, centreScale: 1, spread: 0.3 });
    const cand = blobs(170, [1, 1, 0], 6, { dim: 24, centresSeed: 7, centreScale: 1, spread: 0.3 });
    for (const [k, tile] of [
      [1, 64],
      [3, 37],
      [5, 4096],
      [10, 50],
      [5, 1],
    ] as const)
      await expectExact(ref, cand, k, tile);
  });

  it('euclidean rows as given: norms from 0.1 to 10, and rows far from the origin (float32 cancellation)', async () => {
    const rng = mulberry32(3);
    const scale = Array.from({ length: 300 }, () => 0.1 * 100 ** rng());
    const ref = rows(200, 16, (i) => scale[i]! * gaussian(rng));
    const cand = rows(150, 16, (i) => scale[i + 100]! * gaussian(rng));
    await expectExact(ref, cand, 5, 64);
    // 1000 + N(0, 0.01): |x|² ≈ 1.6·10⁷ against squared distances ≈ 10⁻³. The tiles see the rows less the
    // reference's mean, so few pairs need float64.
    const far = (n: number, seed: number) => {
      const g = mulberry32(seed);
      return rows(n, 16, () => 1000 + 0.01 * gaussian(g));
    };
    const got = await expectExact(far(200, 1), far(150, 2), 5, 64);
    expect(got.search.rechecked_pairs).toBeLessThan(0.05 * 200 * 150);
  });

  it('ties and copies: integer lattice points (many equal distances at the radius) and rows repeated across sets', async () => {
    const rng = mulberry32(11);
    const lattice = (n: number) => rows(n, 6, () => Math.floor(3 * rng()));
    const ref = lattice(260);
    const cand = lattice(190);
    cand.data.set(ref.data.subarray(0, 6 * 20), 0); // 20 candidates are copies of reference rows
    for (const k of [1, 5, 12]) {
      const got = await expectExact(ref, cand, k, 64);
      // Equal distances at the end of a list: those points' radii were searched again, exactly.
      if (k === 5)
        expect(got.search.researched.reference_radii + got.search.researched.candidate_radii).toBeGreaterThan(0);
    }
  });

  it('sets of k or fewer other points: the farthest there is; one point per side', async () => {
    const ref = blobs(4, [1], 1, { dim: 8, centresSeed: 1, centreScale: 1, spread: 0.5 });
    const cand = blobs(3, [1], 2, { dim: 8, centresSeed: 1, centreScale: 1, spread: 0.5 });
    await expectExact(ref, cand, 5, 2);
    await expectExact(
      rows(1, 3, (_, j) => j),
      rows(1, 3, () => 1),
      1,
      8,
    );
  });

  it('rows in shared memory (as the HNSW workers have them) give the same result', async () => {
    const ref = blobs(120, [1, 1], 5, { dim: 12, centresSeed: 7, centreScale: 1, spread: 0.3 });
    const cand = blobs(90, [1, 0], 6, { dim: 12, centresSeed: 7, centreScale: 1, spread: 0.3 });
    const plain = await exactPrdc(ref, cand, { k: 3, tile: 32 });
    expect(await exactPrdc(sharedVectors(ref), sharedVectors(cand), { k: 3, tile: 32 })).toEqual(plain);
  });

  it('float32 thresholds are rounded outwards', () => {
    for (const v of [1 / 3, -1 / 3, 2 ** -140, -(2 ** -140), 0.1, 1e30, 2]) {
      expect(f32Below(v)).toBeLessThanOrEqual(v);
      expect(f32Above(v)).toBeGreaterThanOrEqual(v);
      expect(Math.fround(f32Below(v))).toBe(f32Below(v));
      expect(Math.fround(f32Above(v))).toBe(f32Above(v));
    }
    expect(f32Below(2)).toBe(2);
    expect(f32Below(1 / 3)).toBeLessThan(f32Above(1 / 3));
  });
});

describe('k-means regions from the tiles', () => {
  it("nearest centroids and k-means equal the float64 loop's, bit for bit (clustered, far from the origin, ties)", async () => {
    const runner = await TileRunner.start(['cpu'], 2);
    try {
      const g = mulberry32(5);
      const sets = [
        blobs(900, [1, 2, 1, 1], 3, { dim: 40, centresSeed: 2, centreScale: 1, spread: 0.4 }),
        rows(700, 12, () => 500 + 0.05 * gaussian(g)),
        rows(600, 5, () => Math.floor(3 * g())), // lattice points: many rows equidistant from two centroids
      ];
      for (const set of sets) {
        for (const k of [1, 7, 32]) {
          const want = kmeans(set, k, { seed: 3 });
          const got = await kmeansWith(set, k, { seed: 3 }, (r, c) => nearestCentroids(runner, r, c, 100));
          expect(got).toEqual(want);
          expect(await nearestCentroids(runner, set.data, want, 256)).toEqual(assignAll(want, set));
        }
      }
      // Centroids on the lattice too: many rows exactly as far from two of them (the first one wins, as in the loop).
      const lattice = sets[2]!;
      const onLattice = { centroids: lattice.data.slice(0, 10 * 5), k: 10, dim: 5 };
      const want = assignAll(onLattice, lattice);
      expect(await nearestCentroids(runner, lattice.data, onLattice, 64)).toEqual(want);
      const tied = Array.from({ length: 600 }, (_, i) => i).filter((i) => {
        const d = Array.from({ length: 10 }, (_, t) =>
          squaredDistance(lattice.data, i, onLattice.centroids, t, 5),
        ).sort((a, b) => a - b);
        return d[0] === d[1];
      });
      expect(tied.length).toBeGreaterThan(50);
    } finally {
      await runner.release();
    }
  });
});

describe('metrics', () => {
  // Reference (1,0), (0,1), (−1,0); candidates (1,1), (5,0); k = 1.
  //   cosine (rows normalised: (1,1) → 45°, (5,0) → (1,0)): reference radii √2; candidate radii 2·sin 22.5° (they are 45°
  //   apart). Both candidates lie in 2 reference balls ((5,0) at 0 and, a tie, at √2 ≤ √2): P 1, D 2; (0,1) lies on
  //   the 45° candidate's ball (a tie) and (1,0) inside: R 2/3; (−1,0)'s nearest candidate is 135° away: C 2/3.
  //   euclidean: reference radii √2, candidate radii √17; (1,1) lies in 2 balls, (5,0) in none: P 1/2, D 1; every
  //   reference point lies in (1,1)'s ball: R 1; (−1,0)'s nearest candidate is √5 > √2 away: C 2/3.
  const want = { cosine: [1, 2 / 3, 2, 2 / 3], euclidean: [1 / 2, 1, 1, 2 / 3] };
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-metric-'));
  saveNpy(join(dir, 'ref'), { data: Float32Array.of(1, 0, 0, 1, -1, 0), dim: 2 });
  saveNpy(join(dir, 'cand'), { data: Float32Array.of(1, 1, 5, 0), dim: 2 });

  it('a hand-checked example, each metric, each search', async () => {
    for (const metric of ['cosine', 'euclidean'] as const) {
      for (const search of ['exact', 'hnsw'] as const) {
        const r = await coverageRun({
          reference: join(dir, 'ref.npy'),
          candidate: join(dir, 'cand.npy'),
          out: join(dir, `${metric}-${search}`),
          k: 1,
          clusters: 1,
          metric,
          search,
          threads: 1,
        });
        expect([r.precision.value, r.recall.value, r.density.value, r.coverage.value], `${metric}, ${search}`).toEqual(
          want[metric].map((x) => expect.closeTo(x, 12)),
        );
        expect(r.metric).toBe(metric);
        expect(r.search).toMatchObject({ requested: search, used: search, reason: 'asked for' });
      }
    }
  });

  it('the same numbers from exact search and HNSW on a small set, point for point', async () => {
    const clustered = (n: number, weights: number[], seed: number) =>
      blobs(n, weights, seed, { dim: 16, centresSeed: 99, centreScale: 1, spread: 0.35 });
    const ref = clustered(500, [1, 1, 1, 1, 1], 1);
    for (const cand of [clustered(400, [1, 1, 1, 1, 1], 2), clustered(400, [1, 1, 1, 1, 0], 3)]) {
      const exact = await exactPrdc(ref, cand, { k: 5 });
      const pair = await buildIndexPair(ref, cand, { threads: 1 });
      const hnsw = await prdc(pair, { k: 5 });
      for (const m of ['precision', 'recall', 'density', 'coverage'] as const) expect(exact[m]).toEqual(hnsw[m]);
      expect(exact.candidate.balls).toEqual(hnsw.candidate.balls);
      expect(exact.reference.covered).toEqual(hnsw.reference.covered);
      expect(Array.from(exact.reference.radius)).toEqual(
        Array.from(hnsw.reference.radius).map((r) => expect.closeTo(r, 6)),
      );
    }
  });

  it("the prdc paper's example: 10k vs 10k standard normals in 1000-d, k = 5, euclidean (P .477, R .471, D 1.056, C .974)", async () => {
    const dim = 1000;
    const normals = (seed: number) => {
      const g = mulberry32(seed);
      return rows(10_000, dim, () => gaussian(g));
    };
    const r = await exactPrdc(normals(1), normals(2), { k: 5 });
    expect(Math.abs(r.precision.value - 0.477)).toBeLessThanOrEqual(0.03);
    expect(Math.abs(r.recall.value - 0.471)).toBeLessThanOrEqual(0.03);
    expect(Math.abs(r.density.value - 1.056)).toBeLessThanOrEqual(0.08);
    expect(Math.abs(r.coverage.value - 0.974)).toBeLessThanOrEqual(0.03);
  });
});

describe('--search auto', () => {
  it('exact within the CPU budget and on a GPU, HNSW above it or when an HNSW option is given; exact with one is refused', () => {
    const small = exactWork(20_000, 20_000, 256);
    const large = exactWork(1_000_000, 1_000_000, 256);
    expect(small).toBe((20_000 * 20_001 + 20_000 * 20_000) * 256);
    expect(small).toBeLessThan(EXACT_WORK_BUDGET);
    expect(large).toBeGreaterThan(EXACT_WORK_BUDGET);
    expect(chooseSearch('auto', [], small, false)).toBe('device');
    expect(afterDevice('auto', small, 'cpu')).toMatchObject({
      used: 'exact',
      device: 'cpu',
      reason: 'auto: work 2.0e11 within the CPU budget 6.0e12',
    });
    expect(chooseSearch('auto', [], large, false)).toMatchObject({
      used: 'hnsw',
      device: null,
      reason: 'auto: work 5.1e14 above the CPU budget 6.0e12',
    });
    expect(chooseSearch('auto', [], large, true)).toBe('device');
    expect(afterDevice('auto', large, 'cuda')).toMatchObject({
      used: 'exact',
      device: 'cuda',
      reason: 'auto: on a GPU',
    });
    expect(afterDevice('auto', large, 'cpu')).toMatchObject({ used: 'hnsw', device: null });
    expect(chooseSearch('exact', [], large, false)).toBe('device');
    expect(chooseSearch('hnsw', [], small, true)).toMatchObject({ used: 'hnsw', reason: 'asked for' });
    const given = hnswOptionsGiven({ maxProbe: 12, index: { m: undefined, efSearch: 50 }, referenceIndex: 'r.hnsw' });
    expect(given).toEqual(['`index.efSearch`', '`maxProbe`', '`referenceIndex`']);
    expect(chooseSearch('auto', given, small, true)).toMatchObject({
      used: 'hnsw',
      reason: 'auto: `index.efSearch`, `maxProbe`, `referenceIndex` given',
    });
    expect(() => chooseSearch('exact', ['`maxProbe`'], small, false)).toThrow(UsageError);
    expect(() => chooseSearch('exact', ['`maxProbe`'], small, false)).toThrow(
      '`search` exact: `maxProbe` applies to HNSW search only (`search` hnsw, or auto)',
    );
  });

  it('the CLI: auto on a small set runs exact search, says so on stderr and in report.json (no index written); bad values refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-cov-'));
    const clustered = (n: number, weights: number[], seed: number) =>
      blobs(n, weights, seed, { dim: 16, centresSeed: 99, centreScale: 1, spread: 0.35 });
    saveNpy(join(dir, 'ref'), clustered(300, [1, 1, 1], 5));
    saveNpy(join(dir, 'cand'), clustered(200, [1, 1, 0], 6));
    const cli = (out: string, ...more: string[]) =>
      runCli(['coverage', ...setArgs(dir, { out, clusters: 3 }), ...more]);
    const r = cli('auto', '--device', 'cpu');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'auto', 'report.json'), 'utf8'));
    expect(report.metric).toBe('cosine');
    expect(report.search).toMatchObject({
      requested: 'auto',
      used: 'exact',
      device: 'cpu',
      work: exactWork(300, 200, 16),
    });
    expect(report.exact_search).toMatchObject({
      device: 'cpu',
      researched: { reference_radii: 0, candidate_radii: 0, nearest_candidates: 0 },
    });
    expect(report.index).toBeUndefined();
    expect(report.capped).toBeUndefined();
    expect(r.stderr).toContain('tailguard: exact search (auto: work 2.0e6 within the CPU budget 6.0e12)');
    expect(r.stderr).toMatch(
      /tailguard: exact search on cpu \(\d+ threads, blocks of 2048\): \d+ pairs within float32 rounding of a radius decided in float64/,
    );
    expect(r.stderr).toContain('tailguard: exact radii: 500 points');
    expect(r.stderr).toContain('tailguard: exact balls: 300 points');
    expect(readFileSync(join(dir, 'auto', 'report.html'), 'utf8')).toContain('exact search over every pair');
    expect(
      readFileSync(join(dir, 'auto', 'reference.jsonl'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(300);
    expect(() => readFileSync(join(dir, 'auto', 'reference.hnsw'))).toThrow();
    const refused = cli('x', '--search', 'exact', '--max-probe', '12');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('--search exact: --max-probe applies to HNSW search only');
    expect(cli('y', '--metric', 'manhattan').status).not.toBe(0);
  });
});
