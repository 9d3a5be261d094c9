/** The anchor frame: whitening gives the anchor identity covariance up to shrinkage, remove-top kills the top directions, the streamed moments equal a two-pass batch computation, the file round-trips. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyAnchorFrame,
  fitAnchorFrame,
  MomentAccumulator,
  readAnchorFrame,
  saveAnchorFrame,
} from '../../src/coverage/anchor-frame.js';
import { InputError, UsageError } from '../../src/errors.js';
import { mulberry32 } from '../../src/random.js';
import { symmetricEigen } from '../../src/stats/symmetric-eigen.js';

const D = 6;
/** Anisotropic rows: a large common offset, scales 10, 3, 1, 0.5, 0.2, 0.1 along a rotated basis. */
function anisotropic(n: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const scales = [10, 3, 1, 0.5, 0.2, 0.1];
  const out = new Float32Array(n * D);
  const c = Math.cos(0.6);
  const s = Math.sin(0.6);
  for (let r = 0; r < n; r++) {
    const z = scales.map((sc) => sc * gauss());
    // Rotate the first two coordinates so the directions are not the axes.
    const x = [c * z[0]! - s * z[1]!, s * z[0]! + c * z[1]!, ...z.slice(2)];
    for (let j = 0; j < D; j++) out[r * D + j] = 50 + x[j]!;
  }
  return out;
}

/** Two-pass float64 mean and sample covariance. */
function batchMoments(data: ArrayLike<number>, d: number): { mean: number[]; cov: number[] } {
  const n = data.length / d;
  const mean = Array.from({ length: d }, (_, j) => {
    let s = 0;
    for (let r = 0; r < n; r++) s += data[r * d + j]!;
    return s / n;
  });
  const cov = new Array<number>(d * d).fill(0);
  for (let r = 0; r < n; r++)
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) cov[i * d + j]! += (data[r * d + i]! - mean[i]!) * (data[r * d + j]! - mean[j]!);
  return { mean, cov: cov.map((v) => v / (n - 1)) };
}

describe('anchor frame', () => {
  const rows = anisotropic(4000, 3);

  it('streamed moments (any block size) equal the two-pass batch ones', () => {
    const { mean, cov } = batchMoments(rows, D);
    for (const block of [1, 7, 4000]) {
      const acc = new MomentAccumulator(D);
      for (let o = 0; o < rows.length; o += block * D) acc.add(rows.subarray(o, o + block * D));
      expect(acc.count).toBe(4000);
      Array.from(acc.mean()).forEach((v, j) => expect(v).toBeCloseTo(mean[j]!, 9));
      Array.from(acc.covariance()).forEach((v, j) => expect(v).toBeCloseTo(cov[j]!, 8));
    }
  });

  it('whiten: the anchor in its frame has covariance V diag(λ/(λ+ε)) Vᵀ — identity up to the shrinkage', () => {
    const frame = fitAnchorFrame({ data: rows, dim: D }, 'euclidean', 'anchor.npy', { shrinkage: 0.01 });
    const { cov: before } = batchMoments(rows, D);
    const lambda = symmetricEigen(before, D).values;
    const trace = lambda.reduce((a, v) => a + v, 0);
    expect(frame.epsilon).toBeCloseTo((0.01 * trace) / D, 9);
    const mapped = Float32Array.from(rows);
    applyAnchorFrame(frame, { data: mapped, dim: D }, 'euclidean');
    const { mean, cov } = batchMoments(mapped, D);
    mean.forEach((m) => expect(Math.abs(m)).toBeLessThan(1e-4));
    const after = symmetricEigen(cov, D).values;
    // Eigenvalues λ/(λ+ε), largest λ first (the map is monotone in λ, so the order is kept).
    Array.from(lambda).forEach((l, i) => expect(after[i]!).toBeCloseTo(l / (l + frame.epsilon!), 4));
    // The two largest directions (variance 100 and 9 ≫ ε ≈ 0.18) come out near 1.
    for (let i = 0; i < 2; i++) expect(after[i]!).toBeGreaterThan(0.97);
    // With the default shrinkage (0.1 · average), the smallest direction (0.01 ≪ ε ≈ 1.8) is damped, not blown up.
    const shrunk = fitAnchorFrame({ data: rows, dim: D }, 'euclidean', 'anchor.npy');
    const m2 = Float32Array.from(rows);
    applyAnchorFrame(shrunk, { data: m2, dim: D }, 'euclidean');
    const smallest = symmetricEigen(batchMoments(m2, D).cov, D).values[D - 1]!;
    expect(smallest).toBeCloseTo(lambda[D - 1]! / (lambda[D - 1]! + shrunk.epsilon!), 4);
    expect(smallest).toBeLessThan(0.01);
  });

  it('remove-top: the top principal direction (variance 100 of 110) is projected out, the others kept', () => {
    const frame = fitAnchorFrame({ data: rows, dim: D }, 'euclidean', 'anchor.npy', { method: 'remove-top' });
    // Only the first direction has variance above 10 × the average (≈ 18.5): k = 1.
    expect(frame.removed).toBe(1);
    const { cov: before } = batchMoments(rows, D);
    const eig = symmetricEigen(before, D);
    expect(frame.removed_variance).toBeCloseTo(eig.values[0]! / eig.values.reduce((a, v) => a + v, 0), 9);
    const mapped = Float32Array.from(rows);
    applyAnchorFrame(frame, { data: mapped, dim: D }, 'euclidean');
    const after = symmetricEigen(batchMoments(mapped, D).cov, D).values;
    // The removed direction's variance is 0; the other five keep theirs.
    expect(after[D - 1]!).toBeLessThan(1e-6);
    for (let i = 1; i < D; i++) expect(after[i - 1]!).toBeCloseTo(eig.values[i]!, 3);
    const u = Array.from({ length: D }, (_, r) => eig.vectors[r * D]!);
    for (let r = 0; r < 100; r++) {
      const p = u.reduce((a, x, j) => a + x * mapped[r * D + j]!, 0);
      expect(Math.abs(p)).toBeLessThan(1e-3);
    }
  });

  it('cosine: mapped rows are unit length; the file round-trips; other widths, metrics and bad files are refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-frame-'));
    const frame = fitAnchorFrame({ data: rows, dim: D }, 'cosine', 'anchor.npy');
    const mapped = Float32Array.from(rows.subarray(0, 60));
    applyAnchorFrame(frame, { data: mapped, dim: D }, 'cosine');
    for (let r = 0; r < 10; r++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += mapped[r * D + j]! ** 2;
      expect(s).toBeCloseTo(1, 5);
    }
    await saveAnchorFrame(join(dir, 'f.json'), frame);
    const back = readAnchorFrame(join(dir, 'f.json'));
    expect(back).toEqual(frame);
    expect(() => applyAnchorFrame(back, { data: new Float32Array(8), dim: 4 }, 'cosine')).toThrow(UsageError);
    expect(() => applyAnchorFrame(back, { data: new Float32Array(6), dim: D }, 'euclidean')).toThrow(/metric cosine/);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...frame, matrix: [1, 2] }));
    expect(() => readAnchorFrame(join(dir, 'bad.json'))).toThrow(InputError);
    writeFileSync(join(dir, 'bad2.json'), '{');
    expect(() => readAnchorFrame(join(dir, 'bad2.json'))).toThrow(/bad2.json: not a readable anchor frame/);
  });
});
