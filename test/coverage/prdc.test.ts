/**
 * Coverage metrics on synthetic embeddings whose tails are known: the HNSW path against an exact brute-force
 * implementation of Naeem et al.'s definitions, a missing cluster showing up as uncovered reference points, and the
 * CLI on .npy files with id sidecars.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AnnIndex, exactKnn, recallAtK } from '../../src/coverage/ann-index.js';
import { prdc } from '../../src/coverage/prdc.js';
import { row, type VectorSet } from '../../src/coverage/vectors.js';
import { blobs, saveNpy } from './synthetic.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIM = 16;

/** Points around random centres in 16-d; cluster c gets weights[c] of the n points. */
const clustered = (n: number, weights: number[], seed: number) => blobs(n, weights, seed, { dim: DIM, centresSeed: 99, centreScale: 1, spread: 0.35 });

/** Naeem et al.'s definitions, computed exactly (all pairs, float64). */
function exactPrdc(ref: VectorSet, cand: VectorSet, k: number) {
  const radius = (set: VectorSet) => set.ids.map((_, i) => exactKnn(set, row(set, i), k + 1).distances[k]!);
  const r = radius(ref);
  const rc = radius(cand);
  const dist = (a: VectorSet, i: number, b: VectorSet, j: number) => {
    let s = 0;
    for (let t = 0; t < DIM; t++) s += (a.data[i * DIM + t]! - b.data[j * DIM + t]!) ** 2;
    return Math.sqrt(s);
  };
  const N = ref.ids.length;
  const M = cand.ids.length;
  let precision = 0, density = 0, recall = 0, coverage = 0;
  for (let j = 0; j < M; j++) {
    let c = 0;
    for (let i = 0; i < N; i++) if (dist(cand, j, ref, i) <= r[i]!) c++;
    density += c;
    if (c > 0) precision++;
  }
  for (let i = 0; i < N; i++) {
    let nearest = Infinity, inCand = false;
    for (let j = 0; j < M; j++) {
      const d = dist(ref, i, cand, j);
      nearest = Math.min(nearest, d);
      if (d <= rc[j]!) inCand = true;
    }
    if (nearest <= r[i]!) coverage++;
    if (inCand) recall++;
  }
  return { precision: precision / M, recall: recall / N, density: density / (k * M), coverage: coverage / N };
}

describe('prdc', () => {
  const ref = clustered(500, [1, 1, 1, 1, 1], 1);
  const full = clustered(400, [1, 1, 1, 1, 1], 2);
  const noTail = clustered(400, [1, 1, 1, 1, 0], 3);
  const k = 5;
  const refIndex = AnnIndex.build(ref);

  it('the HNSW path agrees with the exact definitions', () => {
    for (const cand of [full, noTail]) {
      const got = prdc(ref, refIndex, cand, AnnIndex.build(cand), k);
      const want = exactPrdc(ref, cand, k);
      expect(got.precision.value).toBeCloseTo(want.precision, 2);
      expect(got.recall.value).toBeCloseTo(want.recall, 2);
      expect(got.density.value).toBeCloseTo(want.density, 2);
      expect(got.coverage.value).toBeCloseTo(want.coverage, 2);
      expect(got.coverage.ci.lo).toBeLessThanOrEqual(got.coverage.value);
      expect(got.coverage.ci.hi).toBeGreaterThanOrEqual(got.coverage.value);
    }
  });

  it('a candidate from the same distribution: high coverage, density near 1', () => {
    const got = prdc(ref, refIndex, full, AnnIndex.build(full), k);
    expect(got.coverage.value).toBeGreaterThan(0.9);
    expect(got.precision.value).toBeGreaterThan(0.85);
    expect(got.density.value).toBeGreaterThan(0.7);
    expect(got.density.value).toBeLessThan(1.3);
  });

  it('a candidate missing one of five clusters: that cluster\'s reference points are uncovered, the rest covered', () => {
    const got = prdc(ref, refIndex, noTail, AnnIndex.build(noTail), k);
    const inTail = ref.cluster.map((c) => c === 4);
    const tailCovered = inTail.filter((t, i) => t && got.reference.covered[i]).length / inTail.filter(Boolean).length;
    const restCovered = inTail.filter((t, i) => !t && got.reference.covered[i]).length / inTail.filter((t) => !t).length;
    expect(tailCovered).toBeLessThan(0.05);
    expect(restCovered).toBeGreaterThan(0.9);
    expect(got.coverage.value).toBeLessThan(0.82);
    expect(got.recall.value).toBeLessThan(0.85);
    expect(got.precision.value).toBeGreaterThan(0.85); // what it has is human-like
  });

  it('index recall@k against exact search, saved and reloaded', () => {
    expect(recallAtK(refIndex, ref, full, 10, 50)).toBeGreaterThan(0.95);
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-hnsw-'));
    refIndex.save(join(dir, 'i.hnsw'));
    const again = AnnIndex.load(join(dir, 'i.hnsw'));
    expect(again.knn(row(full, 0), 5)).toEqual(refIndex.knn(row(full, 0), 5));
  });
});

describe('tailguard coverage', () => {
  it('reads .npy files with id sidecars and writes report.json with the four metrics and per-document rows', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-cov-'));
    const ref = clustered(300, [1, 1, 1], 5);
    saveNpy(join(dir, 'ref'), ref, ref.ids.map((id) => `ref-${id}`));
    saveNpy(join(dir, 'cand'), clustered(200, [1, 1, 0], 6));
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'run.ts'), 'coverage', '--reference', join(dir, 'ref.npy'), '--candidate', join(dir, 'cand.npy'), '--out', join(dir, 'out'), '--k', '5', '--clusters', '3', '--json'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8'));
    for (const m of ['precision', 'recall', 'density', 'coverage']) {
      expect(report[m].value).toBeGreaterThanOrEqual(0);
      expect(report[m].ci.lo).toBeLessThanOrEqual(report[m].ci.hi);
    }
    expect(report.coverage.value).toBeLessThan(0.75); // a third of the reference is a cluster the candidate lacks
    expect(report.index.recall_at_k).toBeGreaterThan(0.9);
    const refRows = readFileSync(join(dir, 'out', 'reference.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(refRows).toHaveLength(300);
    expect(refRows[0].id).toBe('ref-p0');
    const candRows = readFileSync(join(dir, 'out', 'candidate.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(candRows[0].id).toBe('0'); // no sidecar: row numbers
    expect(JSON.parse(r.stdout).k).toBe(5);
    // The region the candidate lacks is found as a tail: absent, with a third of the reference and no coverage.
    const absent = report.clusters.filter((c: { status: string }) => c.status === 'absent');
    expect(absent.length).toBeGreaterThanOrEqual(1);
    const share = absent.reduce((a: number, c: { reference_share: number }) => a + c.reference_share, 0);
    expect(share).toBeGreaterThan(0.25);
    expect(share).toBeLessThan(0.42);
    for (const c of absent) expect(c.coverage).toBe(0);
    expect(report.tails).toEqual(expect.arrayContaining(absent.map((c: { cluster: number }) => c.cluster)));
  });
});
