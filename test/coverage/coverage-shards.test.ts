/**
 * Coverage in candidate shards: 3 shards reduced give the metrics (values and CIs), regions and per-document files
 * of one exact run, and those metrics equal a float64 brute force written here; a done shard is a no-op, other
 * settings are refused, the reduce waits for every shard; the CLI's --shard and --reduce.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coveragePrepare, coverageReduce, coverageShard } from '../../src/coverage/coverage-shards.js';
import { coverageRun } from '../../src/coverage/coverage-run.js';
import { RunStateError } from '../../src/errors.js';
import { blobs, saveNpy } from './synthetic.js';
import { runCli, setArgs } from '../helpers/cli.js';

const clustered = (n: number, weights: number[], seed: number) =>
  blobs(n, weights, seed, { dim: 8, centresSeed: 42, centreScale: 1, spread: 0.35 });

/** Precision, recall, density, coverage by a float64 loop over every pair (Naeem et al. 2020). */
function bruteForce(ref: Float32Array, cand: Float32Array, dim: number, k: number) {
  const n = ref.length / dim;
  const m = cand.length / dim;
  const d = (a: Float32Array, i: number, b: Float32Array, j: number) => {
    let s = 0;
    for (let t = 0; t < dim; t++) s += (a[i * dim + t]! - b[j * dim + t]!) ** 2;
    return Math.sqrt(s);
  };
  const radii = (x: Float32Array, len: number) =>
    Array.from(
      { length: len },
      (_, i) => Array.from({ length: len }, (_, j) => d(x, i, x, j)).sort((a, b) => a - b)[k]!,
    );
  const rr = radii(ref, n);
  const cr = radii(cand, m);
  let inManifold = 0;
  let balls = 0;
  for (let j = 0; j < m; j++) {
    let c = 0;
    for (let i = 0; i < n; i++) if (d(ref, i, cand, j) <= rr[i]!) c++;
    balls += c;
    if (c > 0) inManifold++;
  }
  let recall = 0;
  let covered = 0;
  for (let i = 0; i < n; i++) {
    let nearest = Infinity;
    let inCand = false;
    for (let j = 0; j < m; j++) {
      const x = d(ref, i, cand, j);
      nearest = Math.min(nearest, x);
      if (x <= cr[j]!) inCand = true;
    }
    if (inCand) recall++;
    if (nearest <= rr[i]!) covered++;
  }
  return { precision: inManifold / m, recall: recall / n, density: balls / (k * m), coverage: covered / n };
}

function sets(dir: string) {
  const ref = clustered(240, [1, 1, 1, 1], 3);
  // The candidate lacks region 3, and repeats some rows exactly (ties at the radii).
  const cand = clustered(190, [2, 1, 1, 0], 4);
  cand.data.copyWithin(8 * 11, 8 * 10, 8 * 11);
  cand.data.copyWithin(8 * 150, 8 * 149, 8 * 150);
  saveNpy(join(dir, 'ref'), ref, ref.ids);
  saveNpy(join(dir, 'cand'), cand, cand.ids);
  return { ref, cand, refPath: join(dir, 'ref.npy'), candPath: join(dir, 'cand.npy') };
}

// Raw rows (no anchor frame), so that the float64 brute force below sees what the search saw.
const COMMON = { k: 5, clusters: 4, device: 'cpu', exactTile: 64, threads: 1, whiten: false } as const;

describe('coverage in candidate shards', () => {
  it('3 shards reduced equal one exact run (metrics, regions, per-document files) and a float64 brute force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-cov-shards-'));
    const { ref, cand, refPath, candPath } = sets(dir);
    const single = await coverageRun({
      ...COMMON,
      reference: refPath,
      candidate: candPath,
      out: join(dir, 'one'),
      search: 'exact',
    });
    const out = join(dir, 'sharded');
    const base = { ...COMMON, reference: refPath, candidate: candPath, out };
    await coverageShard({ ...base, shard: { index: 2, count: 3 } });
    await expect(coverageReduce({ out, device: 'cpu' })).rejects.toThrow(/shards 0, 1 of 3 are not done/);
    // Another k (or another count) in the same directory is refused.
    await expect(coverageShard({ ...base, k: 4, shard: { index: 0, count: 3 } })).rejects.toThrow(
      /k: shards have 5, this one 4/,
    );
    await expect(coverageShard({ ...base, shard: { index: 0, count: 4 } })).rejects.toThrow(RunStateError);
    const parts = [await coverageShard({ ...base, shard: { index: 0, count: 3 } })];
    parts.push(await coverageShard({ ...base, shard: { index: 1, count: 3 } }));
    expect(parts.map((p) => p.rows)).toEqual([
      { from: 0, to: 63 },
      { from: 63, to: 126 },
    ]);
    // A done shard again: nothing recomputed.
    const partFile = join(out, 'shard-00001-of-00003', 'part.json');
    const before = statSync(partFile).mtimeMs;
    expect(await coverageShard({ ...base, shard: { index: 1, count: 3 } })).toEqual(parts[1]);
    expect(statSync(partFile).mtimeMs).toBe(before);

    const reduced = await coverageReduce({ out, device: 'cpu', threads: 1 });
    for (const m of ['precision', 'recall', 'density', 'coverage'] as const) expect(reduced[m], m).toEqual(single[m]);
    expect(reduced.clusters).toEqual(single.clusters);
    expect(reduced.tails).toEqual(single.tails);
    expect(reduced.sharded).toEqual({ shards: 3 });
    for (const f of ['reference.jsonl', 'candidate.jsonl'])
      expect(readFileSync(join(out, f), 'utf8'), f).toBe(readFileSync(join(dir, 'one', f), 'utf8'));
    const truth = bruteForce(ref.data, cand.data, 8, 5);
    for (const m of ['precision', 'recall', 'density', 'coverage'] as const)
      expect(reduced[m].value, m).toBeCloseTo(truth[m], 12);
    // The premise: the candidate misses part of the reference.
    expect(truth.coverage).toBeLessThan(0.9);
    expect(truth.recall).toBeLessThan(0.95);
  });

  it("in the anchor's frame (the default) too: 2 shards reduced equal one run, in the same frame", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-cov-shards-frame-'));
    const { refPath, candPath } = sets(dir);
    const whitened = { ...COMMON, whiten: true, reference: refPath, candidate: candPath };
    const single = await coverageRun({ ...whitened, out: join(dir, 'one'), search: 'exact' });
    const out = join(dir, 'sharded');
    for (const index of [1, 0]) await coverageShard({ ...whitened, out, shard: { index, count: 2 } });
    const reduced = await coverageReduce({ out, device: 'cpu', threads: 1 });
    expect(single.frame.method).toBe('whiten');
    expect(reduced.frame.method).toBe('whiten');
    for (const m of ['precision', 'recall', 'density', 'coverage'] as const) expect(reduced[m], m).toEqual(single[m]);
    expect(reduced.clusters).toEqual(single.clusters);
    const raw = await coverageRun({ ...COMMON, reference: refPath, candidate: candPath, out: join(dir, 'raw') });
    expect(raw.frame.method).toBe('none');
    expect(raw.precision.value).not.toBe(single.precision.value); // the premise: the frame changes the numbers
  });

  it('the CLI: --shard I/N writes a part, --reduce the report; HNSW options are refused with --shard', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-cov-shards-cli-'));
    sets(dir);
    const cli = (...args: string[]) =>
      runCli(['coverage', ...args], {
        env: args.includes('--shards') ? { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2' } : {},
      });
    const out = join(dir, 'out');
    const common = [...setArgs(dir, { clusters: 4 }), '--device', 'cpu']; // its --out is out
    const hnsw = cli(...common, '--shard', '0/2', '--m', '8');
    expect(hnsw.status).toBe(2);
    expect(hnsw.stderr).toMatch(/--shard splits exact search only \(got --m\)/);
    const first = cli(...common, '--shard', '0/2', '--quiet');
    expect(first.status, first.stderr).toBe(0);
    // Shard 1 as a Slurm array task: the index from SLURM_ARRAY_TASK_ID.
    const second = cli(...common, '--shards', '2', '--json', '--quiet');
    expect(second.status, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).shard).toMatchObject({
      index: 1,
      count: 2,
      source: expect.stringMatching(/SLURM_ARRAY_TASK_ID=1/),
    });
    const r = cli('--reduce', '--out', out, '--device', 'cpu', '--json', '--quiet');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.sharded).toEqual({ shards: 2 });
    expect(report.search.used).toBe('exact');
    const one = cli(
      ...setArgs(dir, { out: 'one', clusters: 4 }),
      '--device',
      'cpu',
      '--search',
      'exact',
      '--json',
      '--quiet',
    );
    expect(one.status, one.stderr).toBe(0);
    const single = JSON.parse(one.stdout);
    for (const m of ['precision', 'recall', 'density', 'coverage']) expect(report[m], m).toEqual(single[m]);
    const missing = cli('--out', out);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--reference and --candidate are required/);
  });

  it('prepared reference radii: every shard reads them, and the reduce equals one run; other settings refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-cov-prepare-'));
    const { refPath, candPath } = sets(dir);
    const whitened = { ...COMMON, whiten: true, reference: refPath, candidate: candPath };
    const single = await coverageRun({ ...whitened, out: join(dir, 'one'), search: 'exact' });
    const out = join(dir, 'sharded');
    const prepared = await coveragePrepare({ ...whitened, out });
    expect(prepared.settings).toMatchObject({ k: 5, reference_documents: 240, frame: 'whiten' });
    // Prepared again: a no-op (the same marker, not rewritten).
    expect(await coveragePrepare({ ...whitened, out })).toEqual(prepared);
    const parts = [];
    for (const index of [1, 0, 2]) parts.push(await coverageShard({ ...whitened, out, shard: { index, count: 3 } }));
    expect(parts.map((p) => p.reference_radii)).toEqual(['prepared', 'prepared', 'prepared']);
    const radii = readFileSync(join(out, 'reference-radii', 'reference-radius.f64'));
    expect(readFileSync(join(out, 'shard-00001-of-00003', 'reference-radius.f64')).equals(radii)).toBe(true);
    const reduced = await coverageReduce({ out, device: 'cpu', threads: 1 });
    for (const m of ['precision', 'recall', 'density', 'coverage'] as const) expect(reduced[m], m).toEqual(single[m]);
    expect(reduced.clusters).toEqual(single.clusters);
    for (const f of ['reference.jsonl', 'candidate.jsonl'])
      expect(readFileSync(join(out, f), 'utf8'), f).toBe(readFileSync(join(dir, 'one', f), 'utf8'));
    // The radii a shard computes itself are the same bytes.
    const own = join(dir, 'own');
    const computed = await coverageShard({ ...whitened, out: own, shard: { index: 0, count: 3 } });
    expect(computed.reference_radii).toBe('computed');
    expect(readFileSync(join(own, 'shard-00000-of-00003', 'reference-radius.f64')).equals(radii)).toBe(true);
    // Radii prepared with another k (or frame) are refused, not silently recomputed or misused.
    const other = join(dir, 'other');
    await coveragePrepare({ ...whitened, k: 4, out: other });
    await expect(coverageShard({ ...whitened, out: other, shard: { index: 0, count: 2 } })).rejects.toThrow(
      /reference radii prepared with other settings \(k: prepared with 4, this one 5\)/,
    );
    await expect(coveragePrepare({ ...whitened, whiten: false, out: other })).rejects.toThrow(
      /frame: prepared with whiten, this one none/,
    );
  });

  it('the CLI: --prepare, then the shards and the reduce; --prepare with --shard is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-cov-prepare-cli-'));
    sets(dir);
    const cli = (...args: string[]) => runCli(['coverage', ...args]);
    const common = [...setArgs(dir, { clusters: 4 }), '--device', 'cpu', '--quiet'];
    const both = cli(...common, '--prepare', '--shard', '0/2');
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/--prepare runs once before the shards/);
    const prep = cli('--reference', join(dir, 'ref.npy'), '--out', join(dir, 'out'), '--prepare', '--json');
    expect(prep.status, prep.stderr).toBe(0);
    expect(JSON.parse(prep.stdout).format).toBe('tailguard-coverage-reference-radii');
    for (const i of [0, 1]) {
      const r = cli(...common, '--shard', `${i}/2`, '--json');
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).reference_radii).toBe('prepared');
    }
    const r = cli('--reduce', '--out', join(dir, 'out'), '--device', 'cpu', '--quiet');
    expect(r.status, r.stderr).toBe(0);
  });
});
