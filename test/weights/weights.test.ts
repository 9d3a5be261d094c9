/** Oversampling weights on synthetic clusters whose shares are known; the CLI with its Parquet output. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { assignAll, kmeans, totalVariation } from '../../src/coverage/clusters.js';
import { clusterWeights } from '../../src/weights/weights.js';
import { blobs, saveNpy } from '../coverage/synthetic.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('clusterWeights, hand-checked', () => {
  it('reference 50/50, candidate 80/20 → weights 0.625 and 2.5 (mean 1), histogram matched exactly', () => {
    const ref = Int32Array.from([0, 0, 1, 1]);
    const cand = Int32Array.from([0, 0, 0, 0, 1]); // 80% / 20%
    const r = clusterWeights(ref, cand, 2, { maxWeight: 10 });
    expect(Array.from(r.weights).map((w) => +w.toFixed(6))).toEqual([0.625, 0.625, 0.625, 0.625, 2.5]);
    expect(r.tvBefore).toBeCloseTo(0.3, 12);
    expect(r.tvAfter).toBeCloseTo(0, 12);
  });

  it('a cap holds every weight at or under it, keeps the mean at 1, and leaves some distance', () => {
    const ref = Int32Array.from([0, 1]);
    const cand = Int32Array.from([...Array<number>(99).fill(0), 1]); // 99% / 1%
    const r = clusterWeights(ref, cand, 2, { maxWeight: 5 });
    expect(Math.max(...r.weights)).toBeLessThanOrEqual(5 + 1e-9);
    expect(r.weights.reduce((a, b) => a + b, 0) / r.weights.length).toBeCloseTo(1, 9);
    expect(r.tvAfter).toBeGreaterThan(0);
    expect(r.tvAfter).toBeLessThan(r.tvBefore);
    expect(r.capped).toBe(1);
  });

  it('a cluster the candidate lacks cannot be fixed and is reported; p_synthetic down-weights', () => {
    const r = clusterWeights(Int32Array.from([0, 1, 2]), Int32Array.from([0, 0, 1, 1]), 3, { pSynthetic: [0, 0.5, 0, 1] });
    expect(r.absent).toEqual([{ cluster: 2, reference_share: 1 / 3 }]);
    expect(r.weights[3]).toBe(0); // p_synthetic 1
    expect(r.weights[0]! / r.weights[1]!).toBeCloseTo(2, 12); // 1 − 0 vs 1 − 0.5
  });
});

describe('k-means regions and tailguard weights', () => {
  const regions = (n: number, weights: number[], seed: number) => blobs(n, weights, seed, { dim: 8, centresSeed: 7, centreScale: 3, spread: 0.2, idPrefix: 'd' });

  it('weights pull a skewed candidate towards the reference\'s cluster histogram', () => {
    const ref = regions(600, [1, 1, 1, 1], 1);
    const cand = regions(600, [5, 2, 1, 0.3], 2);
    const c = kmeans(ref, 4);
    const ra = assignAll(c, ref);
    const ca = assignAll(c, cand);
    const r = clusterWeights(ra, ca, 4, { maxWeight: 20 });
    expect(r.tvBefore).toBeGreaterThan(0.3);
    expect(r.tvAfter).toBeLessThan(0.01);
    expect(totalVariation(r.referenceShare, [0.25, 0.25, 0.25, 0.25])).toBeLessThan(0.06);
  });

  it('CLI: weights.jsonl and weights.parquet agree, report says what cannot be fixed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-weights-'));
    saveNpy(join(dir, 'ref'), regions(400, [1, 1, 1, 1], 3));
    saveNpy(join(dir, 'cand'), regions(300, [3, 1, 1, 0], 4)); // the fourth region is absent
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'run.ts'), 'weights', '--reference', join(dir, 'ref.npy'), '--candidate', join(dir, 'cand.npy'), '--out', join(dir, 'out'), '--clusters', '4', '--json'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/WARNING: the candidate has no document in cluster \d \(2\d\.\d% of the reference\): no weight can bring it back/);
    const report = JSON.parse(r.stdout);
    expect(report.cannot_fix).toHaveLength(1);
    expect(report.tv_after).toBeLessThan(report.tv_before);
    const rows = readFileSync(join(dir, 'out', 'weights.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(300);
    expect(rows.reduce((a, x) => a + x.weight, 0) / 300).toBeCloseTo(1, 9);
    const buf = readFileSync(join(dir, 'out', 'weights.parquet'));
    const pq = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) });
    expect(pq).toHaveLength(300);
    expect(pq[5]).toMatchObject({ id: rows[5].id, cluster: BigInt(rows[5].cluster) });
    expect(pq[5]!.weight).toBeCloseTo(rows[5].weight, 12);
  });
});
