/** Oversampling weights on synthetic clusters whose shares are known; the CLI with its Parquet output. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { assignAll, kmeans, totalVariation } from '../../src/coverage/clusters.js';
import { DuplicateIdError } from '../../src/errors.js';
import { scoreCorpus } from '../../src/score/score-corpus.js';
import { clusterWeights } from '../../src/weights/weights.js';
import { weightsRun } from '../../src/weights/weights-run.js';
import { blobs, saveNpy } from '../coverage/synthetic.js';
import { readJsonl, runCli, setArgs, writeJsonl } from '../helpers/cli.js';

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
    const r = clusterWeights(Int32Array.from([0, 1, 2]), Int32Array.from([0, 0, 1, 1]), 3, {
      pSynthetic: [0, 0.5, 0, 1],
    });
    expect(r.absent).toEqual([{ cluster: 2, reference_share: 1 / 3 }]);
    expect(r.weights[3]).toBe(0); // p_synthetic 1
    expect(r.weights[0]! / r.weights[1]!).toBeCloseTo(2, 12); // 1 − 0 vs 1 − 0.5
  });
});

describe('k-means regions and tailguard weights', () => {
  const regions = (n: number, weights: number[], seed: number) =>
    blobs(n, weights, seed, { dim: 8, centresSeed: 7, centreScale: 3, spread: 0.2, idPrefix: 'd' });

  it("weights pull a skewed candidate towards the reference's cluster histogram", () => {
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
    const r = runCli(['weights', ...setArgs(dir, { clusters: 4 }), '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /WARNING: the candidate has no document in cluster \d \(2\d\.\d% of the reference\): no weight can bring it back/,
    );
    const report = JSON.parse(r.stdout);
    expect(report.cannot_fix).toHaveLength(1);
    expect(report.tv_after).toBeLessThan(report.tv_before);
    const rows = readFileSync(join(dir, 'out', 'weights.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(300);
    expect(rows.reduce((a, x) => a + x.weight, 0) / 300).toBeCloseTo(1, 9);
    const buf = readFileSync(join(dir, 'out', 'weights.parquet'));
    const pq = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) });
    expect(pq).toHaveLength(300);
    expect(pq[5]).toMatchObject({ id: rows[5].id, cluster: BigInt(rows[5].cluster) });
    expect(pq[5]!.weight).toBeCloseTo(rows[5].weight, 12);
  });
});

describe("weights' clusters are coverage's regions", () => {
  const regions = (n: number, weights: number[], seed: number, idPrefix: string) =>
    blobs(n, weights, seed, { dim: 8, centresSeed: 11, centreScale: 3, spread: 0.4, idPrefix });

  it.each([[[]], [['--no-whiten']], [['--metric', 'euclidean']]])(
    'same frame, metric, k and seed: the same cluster per candidate row (%j)',
    (frame) => {
      const dir = mkdtempSync(join(tmpdir(), 'tailguard-weights-frame-'));
      saveNpy(join(dir, 'ref'), regions(300, [1, 1, 1, 1, 1], 5, 'r'));
      saveNpy(join(dir, 'cand'), regions(200, [4, 2, 1, 1, 0.5], 6, 'c'));
      const sets = (out: string) => setArgs(dir, { out, clusters: 5 });
      const cov = runCli(['coverage', ...sets('cov'), ...frame, '--search', 'exact', '--quiet']);
      expect(cov.status, cov.stderr).toBe(0);
      const w = runCli(['weights', ...sets('w'), ...frame, '--quiet']);
      expect(w.status, w.stderr).toBe(0);
      const regionOf = readJsonl<{ region: number }>(join(dir, 'cov', 'candidate.jsonl')).map((r) => r.region);
      const clusterOf = readJsonl<{ cluster: number }>(join(dir, 'w', 'weights.jsonl')).map((r) => r.cluster);
      expect(clusterOf).toEqual(regionOf);
      const covReport = JSON.parse(readFileSync(join(dir, 'cov', 'report.json'), 'utf8'));
      const wReport = JSON.parse(readFileSync(join(dir, 'w', 'report.json'), 'utf8'));
      const whitened = !frame.includes('--no-whiten');
      expect(wReport.frame.method).toBe(whitened ? 'whiten' : 'none');
      expect(wReport.frame.method).toBe(covReport.frame.method);
      expect(wReport.metric).toBe(frame.includes('euclidean') ? 'euclidean' : 'cosine');
      expect(wReport.metric).toBe(covReport.metric);
      expect(existsSync(join(dir, 'w', 'anchor-frame.json'))).toBe(whitened);
      // Both HTML reports say which frame the regions were found in.
      const said = !whitened
        ? 'embeddings as loaded (no anchor frame)'
        : 'in the anchor frame of the reference: whitened';
      for (const d of ['cov', 'w']) expect(readFileSync(join(dir, d, 'report.html'), 'utf8')).toContain(said);
      // The cluster shares weights starts from are the region shares coverage reports.
      expect(wReport.per_cluster.map((c: { candidate_share: number }) => c.candidate_share)).toEqual(
        covReport.clusters.map((c: { candidate_share: number }) => c.candidate_share),
      );
    },
  );
});

describe('weights with repeated ids', () => {
  const cli = (args: string[]) => runCli(['weights', ...args]);
  type WeightRow = { id: string; weight: number };
  const small = (n: number, seed: number) =>
    blobs(n, [1, 1], seed, { dim: 4, centresSeed: 7, centreScale: 3, spread: 0.2 });
  /** ref.npy (40 rows, no sidecar) and cand.npy (12 rows) with its ids, each given to rename; returns those ids. */
  const saveSets = (dir: string, rename: (id: string, row: number) => string = (id) => id): string[] => {
    const cand = small(12, 2);
    const ids = cand.ids.map(rename);
    saveNpy(join(dir, 'ref'), small(40, 1));
    saveNpy(join(dir, 'cand'), cand, ids);
    return ids;
  };
  /** saveSets with the candidate's rows 0, 5 and 9 sharing the id 'dup'. */
  const dupCandidate = (dir: string): string[] =>
    saveSets(dir, (id, i) => (i === 0 || i === 5 || i === 9 ? 'dup' : id));

  it('keeps every row, joins detections to a repeated id in order, and says so in report.json and on stderr (even --quiet)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-weights-dups-'));
    const ids = dupCandidate(dir);
    // Only the second 'dup' row is machine-written: its weight must be 0, the other two's not.
    writeJsonl(
      join(dir, 'det.jsonl'),
      ids.map((id, i) => ({ id, p_synthetic: i === 5 ? 1 : 0 })),
    );
    const r = cli([...setArgs(dir, { clusters: 2 }), '--detections', join(dir, 'det.jsonl'), '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const rows = readJsonl<WeightRow>(join(dir, 'out', 'weights.jsonl'));
    expect(rows.map((x) => x.id)).toEqual(ids);
    expect(rows[5]!.weight).toBe(0);
    expect(rows[0]!.weight).toBeGreaterThan(0);
    expect(rows[9]!.weight).toBeGreaterThan(0);
    const report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8'));
    expect(report.duplicate_ids.candidate).toEqual({ count: 2, examples: ['dup'] });
    expect(report.duplicate_ids.detections).toEqual({ count: 2, examples: ['dup'] });
    expect(report.duplicate_ids.reference).toBeUndefined();
    expect(report.duplicate_ids.handling).toMatch(
      /in order \(the k-th row with the id takes the k-th detection with it\)/,
    );
    expect(r.stderr).toBe(
      `tailguard: WARNING: repeated ids: 2 rows of the candidate repeat an earlier row's id ("dup"); 2 rows of the detections repeat an earlier row's id ("dup"). ${report.duplicate_ids.handling}\n`,
    );
  });

  it('refuses a join it cannot make: an id on more rows of the detections than of an .npy candidate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-weights-dups-'));
    const ids = dupCandidate(dir);
    writeJsonl(
      join(dir, 'det.jsonl'),
      [...ids, 'dup'].map((id) => ({ id, p_synthetic: 0 })),
    );
    const run = weightsRun({
      reference: join(dir, 'ref.npy'),
      candidate: join(dir, 'cand.npy'),
      out: join(dir, 'out'),
      clusters: 2,
      detections: join(dir, 'det.jsonl'),
    });
    await expect(run).rejects.toThrow(DuplicateIdError);
    await expect(run).rejects.toThrow(
      `${join(dir, 'det.jsonl')}: id "dup" is on 4 rows here and on 3 rows of the candidate`,
    );
  });

  it('a score directory candidate: a repeated id joins its detection by corpus line, out of order or among extra rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-weights-dups-'));
    const corpus = join(dir, 'corpus.jsonl');
    writeJsonl(corpus, [
      { id: 'x', text: 'Tom had a red ball.' },
      { id: 'y', text: 'Sue had a kite.' },
      { id: 'x', text: 'Ben had a big dog.' },
      { id: 'z', text: 'Max had a hat.' },
    ]);
    const scored = join(dir, 'scored');
    await scoreCorpus({ input: corpus, out: scored, idField: 'id', model: 'stories260k', device: 'cpu' });
    writeJsonl(join(dir, 'det.jsonl'), [
      { id: 'x', line: 3, p_synthetic: 1 },
      { id: 'z', line: 4, p_synthetic: 0 },
      { id: 'x', line: 9, p_synthetic: 0.5 },
      { id: 'y', line: 2, p_synthetic: 0 },
      { id: 'x', line: 1, p_synthetic: 0 },
    ]);
    const report = await weightsRun({
      reference: scored,
      candidate: scored,
      out: join(dir, 'out'),
      clusters: 1,
      detections: join(dir, 'det.jsonl'),
    });
    const rows = readJsonl<WeightRow>(join(dir, 'out', 'weights.jsonl'));
    expect(rows.map((x) => [x.id, +x.weight.toFixed(9)])).toEqual([
      ['x', 1.333333333],
      ['y', 1.333333333],
      ['x', 0],
      ['z', 1.333333333],
    ]);
    expect(report.duplicate_ids).toMatchObject({
      reference: { count: 1, examples: ['x'] },
      candidate: { count: 1, examples: ['x'] },
      detections: { count: 2, examples: ['x'] },
    });
    expect(report.duplicate_ids!.handling).toMatch(/joined to the rows of a repeated id by id and corpus line/);
    // A repeated id whose line has no detection is a missing row, as for any other id.
    writeJsonl(join(dir, 'det2.jsonl'), [
      { id: 'x', line: 1, p_synthetic: 0 },
      { id: 'y', line: 2, p_synthetic: 0 },
      { id: 'x', line: 9, p_synthetic: 0 },
      { id: 'z', line: 4, p_synthetic: 0 },
    ]);
    await expect(
      weightsRun({
        reference: scored,
        candidate: scored,
        out: join(dir, 'out2'),
        clusters: 1,
        detections: join(dir, 'det2.jsonl'),
      }),
    ).rejects.toThrow(/has no row for 1 candidate documents \(first: x at line 3\)/);
  });

  it('unique ids: report.json has no duplicate_ids and nothing is said', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-weights-dups-'));
    saveSets(dir);
    const r = cli([...setArgs(dir, { clusters: 2 }), '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8')).duplicate_ids).toBeUndefined();
  });
});
