/** tailguard coverage with repeated ids (#19): nothing joined by id, every row kept, and the repeats said. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assignAll, clusterTableWithRows, kmeans } from '../../src/coverage/clusters.js';
import { COVERAGE_REPEATS_HANDLING } from '../../src/coverage/coverage-run.js';
import { loadVectors } from '../../src/coverage/vectors.js';
import { blobs, saveNpy } from './synthetic.js';
import { readJsonl, runCli, setArgs } from '../helpers/cli.js';

const clustered = (n: number, weights: number[], seed: number) =>
  blobs(n, weights, seed, { dim: 8, centresSeed: 99, centreScale: 1, spread: 0.35 });

describe('tailguard coverage with repeated ids', () => {
  it("keeps every row in order, reads each example's text by its row, and says so in report.json and on stderr (even --quiet)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-cov-dups-'));
    const ref = clustered(300, [1, 1, 1], 5);
    const refIds = ref.ids.map((_, i) => `r-${i % 10}`); // 290 rows repeat an earlier id
    saveNpy(
      join(dir, 'ref'),
      ref,
      refIds,
      refIds.map((_, i) => `text of reference row ${i}`),
    );
    const cand = clustered(200, [1, 1, 0], 6);
    const candIds = cand.ids.map((id, i) => (i === 7 ? 'p3' : id)); // row 7 repeats row 3's id
    saveNpy(join(dir, 'cand'), cand, candIds);
    const r = runCli([
      'coverage',
      '--no-whiten', // the reference clustering below is computed on the rows as loaded
      ...setArgs(dir, { clusters: 3 }),
      '--quiet',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8'));
    expect(report.duplicate_ids).toEqual({
      reference: { count: 290, examples: ['r-0', 'r-1', 'r-2', 'r-3', 'r-4'] },
      candidate: { count: 1, examples: ['p3'] },
      handling: COVERAGE_REPEATS_HANDLING,
    });
    expect(r.stderr).toBe(
      `tailguard: WARNING: repeated ids: 290 rows of the reference repeat an earlier row's id ("r-0", "r-1", "r-2", "r-3", "r-4"); ` +
        `1 row of the candidate repeats an earlier row's id ("p3"). ${COVERAGE_REPEATS_HANDLING}\n`,
    );
    expect(readJsonl(join(dir, 'out', 'reference.jsonl')).map((x) => x.id)).toEqual(refIds);
    expect(readJsonl(join(dir, 'out', 'candidate.jsonl')).map((x) => x.id)).toEqual(candIds);

    // The examples are the rows the report's clustering picks (the same k-means, seeded alike): each with its own text.
    const set = loadVectors(join(dir, 'ref.npy'));
    const clustering = kmeans(set, 3);
    const { exampleRows } = clusterTableWithRows(
      clustering,
      set,
      assignAll(clustering, set),
      assignAll(clustering, loadVectors(join(dir, 'cand.npy'))),
    );
    expect(report.clusters.map((c: { example_texts: string[] }) => c.example_texts)).toEqual(
      exampleRows.map((rows) => rows.map((i) => `text of reference row ${i}`)),
    );
    expect(exampleRows.flat().some((i) => i >= 10)).toBe(true); // rows whose id an earlier row has: the first row's text would be wrong
  });
});
