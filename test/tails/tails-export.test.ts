/**
 * `tailguard tails export`: a hand-built coverage directory whose counts, picks and weights are known, the errors on
 * a bad one, a text that cannot be found, and the whole path from `tailguard coverage`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { scoreCorpus } from '../../src/score/score-corpus.js';
import { tailsExport, type TailRow } from '../../src/tails/tails-export.js';
import { saveNpy } from '../coverage/synthetic.js';
import { saveTopicSets, TOPICS, topicText, type Topic } from '../coverage/topic-texts.js';
import { readJsonl, runCli, setArgs, writeJsonl } from '../helpers/cli.js';

// 100 reference documents: region 0 holds rows 0, 5, 10, … (20), region 1 rows 1, 11, 21, … (10), region 2 the
// other 70. Candidate: 1000 documents, 50 / 0 / 950. So region 0 is thin, region 1 absent (tail-plan.test.ts has
// the hand computation: masses 1550/7 and 950/7).
const regionOf = (i: number) => (i % 5 === 0 ? 0 : i % 10 === 1 ? 1 : 2);
const M0 = 1550 / 7;
const M1 = 950 / 7;

/** A coverage directory written by hand, with the reference's texts in the sidecar of its .npy. */
function handCoverage(dir: string, opts: { regions?: boolean } = {}): string {
  const cov = join(dir, 'cov');
  mkdirSync(cov, { recursive: true });
  const ids = Array.from({ length: 100 }, (_, i) => `ref-${i}`);
  saveNpy(
    join(dir, 'ref'),
    { data: new Float32Array(200), dim: 2 },
    ids,
    ids.map((id) => `the text of ${id}`),
  );
  const cluster = (c: number, nRef: number, nCand: number, status: string, label: string) => ({
    cluster: c,
    reference_documents: nRef,
    candidate_documents: nCand,
    reference_share: nRef / 100,
    candidate_share: nCand / 1000,
    representation: nCand / 1000 / (nRef / 100),
    status,
    examples: [],
    coverage: 0,
    example_texts: [],
    label,
    top_terms: [],
  });
  writeFileSync(
    join(cov, 'report.json'),
    JSON.stringify({
      tool: 'tailguard',
      command: 'coverage',
      reference: { source: join(dir, 'ref.npy'), documents: 100 },
      candidate: { source: join(dir, 'cand.npy'), documents: 1000 },
      clusters: [
        cluster(0, 20, 50, 'thin', 'shr, cts, qtly'),
        cluster(1, 10, 0, 'absent', 'goal, match'),
        cluster(2, 70, 950, 'over', 'other'),
      ],
      tails: [0, 1],
    }),
  );
  writeJsonl(
    join(cov, 'reference.jsonl'),
    ids.map((id, i) => (opts.regions === false ? { id, covered: false } : { id, covered: false, region: regionOf(i) })),
  );
  return cov;
}

describe('tails export on a hand-built coverage directory', () => {
  it('CLI --budget 12 --format parquet: 7 + 5 evenly spaced documents, their texts, labels and weights', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-tails-'));
    const cov = handCoverage(dir);
    const out = join(dir, 'tails.jsonl');
    const r = runCli([
      'tails',
      'export',
      '--coverage',
      cov,
      '--out',
      out,
      '--budget',
      '12',
      '--format',
      'parquet',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const rows = readJsonl<TailRow>(out);
    // Region 0: picks 2, 5, 8, 11, 14, 17, 19 of its 20 members (rows 0, 5, …); region 1: picks 1, 3, 5, 7, 9 of 10.
    const want0 = [10, 25, 40, 55, 70, 85, 95];
    const want1 = [11, 31, 51, 71, 91];
    expect(rows.map((x) => x.reference_row)).toEqual([...want0, ...want1].sort((a, b) => a - b));
    for (const x of rows) {
      expect(x.id).toBe(`ref-${x.reference_row}`);
      expect(x.text).toBe(`the text of ref-${x.reference_row}`);
      expect(x.region).toBe(regionOf(x.reference_row));
      expect(x.region_label).toBe(x.region === 0 ? 'shr, cts, qtly' : 'goal, match');
      expect(x.weight).toBeCloseTo(x.region === 0 ? M0 / 7 : M1 / 5, 9);
    }
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ exported: 12, texts_missing: 0, budget: 12, candidate_documents: 1000 });
    expect(s.regions.map((x: { exported: number }) => x.exported)).toEqual([7, 5]);
    expect(s.total_mass).toBeCloseTo(2500 / 7, 9);
    expect(r.stderr).toMatch(/12 documents from 2 tail regions/);
    expect(r.stderr).toMatch(
      /#1 \(goal, match\) absent: 10\.0% of the reference, 0\.0% of the candidate; 5 of 10 documents, weight 27\.143/,
    );
    const buf = readFileSync(join(dir, 'tails.parquet'));
    const pq = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) });
    expect(pq).toHaveLength(12);
    pq.forEach((p, i) => {
      expect(p).toMatchObject({
        id: rows[i]!.id,
        text: rows[i]!.text,
        region: BigInt(rows[i]!.region),
        region_label: rows[i]!.region_label,
        reference_row: BigInt(rows[i]!.reference_row),
      });
      expect(p.weight).toBeCloseTo(rows[i]!.weight, 12);
    });
  });

  it('library, no budget: every tail document, each with its region mass over its documents (a new folder for out)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-tails-'));
    const s = await tailsExport({ coverage: handCoverage(dir), out: join(dir, 'new', 'all.jsonl') });
    const rows = readJsonl<TailRow>(join(dir, 'new', 'all.jsonl'));
    expect(rows.map((x) => x.reference_row)).toEqual(
      Array.from({ length: 100 }, (_, i) => i).filter((i) => regionOf(i) !== 2),
    );
    expect(s.exported).toBe(30);
    const w = (c: number) => rows.filter((x) => x.region === c).reduce((a, x) => a + x.weight, 0);
    expect(w(0)).toBeCloseTo(M0, 9);
    expect(w(1)).toBeCloseTo(M1, 9);
  });

  it('no tails: an empty export, without reading the corpus', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-tails-'));
    const cov = handCoverage(dir);
    const report = JSON.parse(readFileSync(join(cov, 'report.json'), 'utf8'));
    writeFileSync(join(cov, 'report.json'), JSON.stringify({ ...report, tails: [] }));
    rmSync(join(dir, 'ref.jsonl'));
    const s = await tailsExport({ coverage: cov, out: join(dir, 'none.jsonl'), format: 'parquet' });
    expect(s).toMatchObject({ exported: 0, texts_missing: 0, regions: [], total_mass: 0 });
    expect(readFileSync(join(dir, 'none.jsonl'), 'utf8')).toBe('');
    const buf = readFileSync(join(dir, 'none.parquet'));
    expect(
      await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) }),
    ).toEqual([]);
  });

  it('a text that cannot be found: the row is kept with text null, a warning, exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-tails-'));
    const cov = handCoverage(dir);
    // Row 10's record now carries another id: the corpus changed under it.
    const side = readJsonl<{ id: string; text: string }>(join(dir, 'ref.jsonl'));
    side[10]!.id = 'someone-else';
    writeJsonl(join(dir, 'ref.jsonl'), side);
    const out = join(dir, 't.jsonl');
    const r = runCli(['tails', 'export', '--coverage', cov, '--out', out, '--quiet']);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/WARNING: 1 of 30 documents have no text/);
    const rows = readJsonl<TailRow>(out);
    expect(rows).toHaveLength(30);
    expect(rows.at(-1)).toMatchObject({ id: 'ref-10', text: null, region: 0, reference_row: 10 });
  });

  it('errors name the path and what is wrong, exit 2, and nothing is written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-tails-'));
    const out = join(dir, 'x.jsonl');
    const run = (coverage: string) => tailsExport({ coverage, out });
    const r = runCli(['tails', 'export', '--coverage', join(dir, 'nowhere'), '--out', out]);
    expect([r.status, r.stderr]).toEqual([2, `tailguard: ${join(dir, 'nowhere')}: no such coverage directory\n`]);
    mkdirSync(join(dir, 'empty'));
    await expect(run(join(dir, 'empty'))).rejects.toThrow(
      `${join(dir, 'empty')} is not a coverage output directory: no report.json`,
    );

    const old = handCoverage(join(dir, 'old'), { regions: false });
    await expect(run(old)).rejects.toThrow(
      `${join(old, 'reference.jsonl')} row 1 has no region: it was written by an older tailguard coverage`,
    );

    const bad = handCoverage(join(dir, 'bad'));
    const badRows = readFileSync(join(bad, 'reference.jsonl'), 'utf8');
    writeFileSync(join(bad, 'reference.jsonl'), badRows.replace(/\n/, '\n{oops\n'));
    await expect(run(bad)).rejects.toThrow(`${join(bad, 'reference.jsonl')}: row 2 is not JSON`);
    writeFileSync(join(bad, 'reference.jsonl'), badRows.replace(/"region":0/, '"region":7'));
    await expect(run(bad)).rejects.toThrow(
      `${join(bad, 'reference.jsonl')} row 1: region 7 is not one of report.json's 3`,
    );

    const short = handCoverage(join(dir, 'short'));
    const shortRows = readFileSync(join(short, 'reference.jsonl'), 'utf8');
    writeFileSync(join(short, 'reference.jsonl'), shortRows.replace(/^.*\n/, ''));
    await expect(run(short)).rejects.toThrow('has 99 rows, report.json counts 100 reference documents');
    // As many rows, but one moved to another region: the files are from different runs.
    writeFileSync(join(short, 'reference.jsonl'), shortRows.replace(/"region":0/, '"region":2'));
    await expect(run(short)).rejects.toThrow(
      'puts 19 documents in region 0, report.json 20: the files are from different runs',
    );

    const notCov = handCoverage(join(dir, 'weights'));
    writeFileSync(join(notCov, 'report.json'), JSON.stringify({ command: 'weights' }));
    await expect(run(notCov)).rejects.toThrow('is not a coverage report (command: weights)');

    const moved = handCoverage(join(dir, 'moved'));
    rmSync(join(dir, 'moved', 'ref.jsonl'));
    await expect(run(moved)).rejects.toThrow(/cannot export the tails' texts: no .*moved\/ref\.jsonl beside the \.npy/);

    const csv = runCli(['tails', 'export', '--coverage', moved, '--out', join(dir, 'x.csv')]);
    expect(csv.status).toBe(2);
    expect(csv.stderr).toContain('--out must be a .jsonl file');
    expect(() => readFileSync(out)).toThrow();
  });
});

describe('tails export after tailguard coverage', () => {
  it('exports every reference document of the absent region, with its label, text and weight', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-tails-e2e-'));
    const { ref, texts } = saveTopicSets(dir, 150, 120);
    const cov = join(dir, 'cov');
    let r = runCli(['coverage', ...setArgs(dir, { out: 'cov', clusters: 3 }), '--search', 'exact', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(cov, 'report.json'), 'utf8'));
    expect(report.tails).toHaveLength(1);
    const tail = report.clusters[report.tails[0]];
    r = runCli(['tails', 'export', '--coverage', cov, '--out', join(dir, 'tails.jsonl'), '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const rows = readJsonl<TailRow>(join(dir, 'tails.jsonl'));
    const sports = ref.cluster.flatMap((c, i) => (c === 2 ? [i] : []));
    expect(rows.map((x) => x.reference_row)).toEqual(sports);
    expect(rows).toHaveLength(tail.reference_documents);
    for (const x of rows) {
      expect(x.text).toBe(texts[x.reference_row]);
      expect(x.id).toBe(ref.ids[x.reference_row]);
      expect(x.region).toBe(tail.cluster);
      expect(x.region_label).toBe(tail.label);
      for (const w of x.region_label!.split(', ')) expect(TOPICS.sports).toContain(w);
    }
    // The only tail is absent: its mass is N · r / (1 − r), shared by its documents.
    const r0 = tail.reference_share;
    const mass = (120 * r0) / (1 - r0);
    expect(rows.reduce((a, x) => a + x.weight, 0)).toBeCloseTo(mass, 9);
    expect(rows[0]!.weight).toBeCloseTo(mass / rows.length, 12);
  });
});

describe('tails export from score directories', () => {
  it("reads the texts from the reference's scored corpus, by corpus line, past a row that was not scored", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-tails-scored-'));
    const topics: Topic[] = ['finance', 'cooking', 'sports'];
    const docs = Array.from({ length: 24 }, (_, i) => ({ key: `h${i}`, body: topicText(topics[i % 3]!, i + 1) }));
    docs.splice(5, 0, { key: 'empty', body: '' }); // line 6 is not scored: later rows sit one line further on
    writeJsonl(join(dir, 'human.jsonl'), docs);
    writeJsonl(
      join(dir, 'gen.jsonl'),
      docs.filter((d, i) => d.body && i % 2 === 0),
    );
    for (const name of ['human', 'gen'])
      await scoreCorpus({
        input: join(dir, `${name}.jsonl`),
        out: join(dir, name),
        model: 'stories260k',
        device: 'cpu',
        textField: 'body',
        idField: 'key',
      });
    const cov = join(dir, 'cov');
    let r = runCli([
      'coverage',
      ...setArgs(dir, { reference: 'human', candidate: 'gen', out: 'cov', clusters: 4 }),
      '--k',
      '2',
      '--search',
      'exact',
      '--quiet',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(cov, 'report.json'), 'utf8'));
    expect(report.region_labels.documents).toBe(24);
    const inTails = report.tails.reduce((a: number, c: number) => a + report.clusters[c].reference_documents, 0);
    expect(inTails).toBeGreaterThan(0);
    r = runCli(['tails', 'export', '--coverage', cov, '--out', join(dir, 'tails.jsonl'), '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const rows = readJsonl<TailRow>(join(dir, 'tails.jsonl'));
    expect(rows).toHaveLength(inTails);
    expect(rows.some((x) => x.reference_row >= 5)).toBe(true); // past the unscored line
    const byKey = new Map(docs.map((d) => [d.key, d.body]));
    for (const x of rows) {
      expect(x.text).toBe(byKey.get(x.id));
      expect(report.tails).toContain(x.region);
      expect(x.region_label).toBe(report.clusters[x.region].label);
    }
  });
});
