/**
 * `tailguard tailbench` end to end on small data: coverage over small embeddings of a topic corpus, then the anchor
 * scored by a small model and benchmarked per region, checked against an independent recount from a separate
 * scoring run; a score directory of the same model read as it is, of another model scored again; the ledger's
 * alarm and exit 3 with --fail-on-tail-loss; errors, exit 2.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { beforeAll, describe, expect, it } from 'vitest';
import { scoreCorpus } from '../../src/score/score-corpus.js';
import type { TailbenchLedger } from '../../src/tailbench/ledger.js';
import type { TailbenchDocument, TailbenchReport } from '../../src/tailbench/report.js';
import { tailbench } from '../../src/tailbench/tailbench.js';
import { saveTopicSets, topicText } from '../coverage/topic-texts.js';
import { ROOT, readJsonl, runCli, setArgs } from '../helpers/cli.js';

const TINY_GPT2 = join(ROOT, 'test', 'fixtures', 'tiny-gpt2');

describe('tailbench after tailguard coverage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-tailbench-'));
  const anchor = join(dir, 'ref.jsonl');
  const cov = join(dir, 'cov');
  let report: TailbenchReport;

  beforeAll(() => {
    // Row 5 has no text: the model cannot score it, and it is counted, not lost.
    saveTopicSets(dir, 36, 40, (topic, i) => (i === 5 ? '' : topicText(topic, i + 1)));
    const r = runCli(['coverage', ...setArgs(dir, { out: 'cov', clusters: 3 }), '--search', 'exact', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
  }, 60_000);

  it('CLI: per region, tail, head and gap equal an independent recount from a separate scoring run', async () => {
    const out = join(dir, 'g0');
    const r = runCli([
      'tailbench',
      '--model',
      'stories260k',
      '--anchor',
      anchor,
      '--coverage',
      cov,
      '--out',
      out,
      '--device',
      'cpu',
      '--ledger',
      join(dir, 'ledger.json'),
      '--generation',
      'g0',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/tailguard: stories260k on the anchor .*: 35 of 36 reference documents/);
    expect(r.stderr).toContain(
      'tailguard: WARNING: 1 of 36 reference documents have no score by this model (not in the anchor, or in its errors.jsonl)',
    );
    expect(r.stderr).toMatch(/tailguard: gap tail − head /);
    report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as TailbenchReport;
    const covReport = JSON.parse(readFileSync(join(cov, 'report.json'), 'utf8'));
    expect(report.coverage.tails).toEqual(covReport.tails);
    expect(report.coverage.tails.length).toBeGreaterThan(0);
    expect(report.documents).toEqual({ matched: 35, reference_unscored: 1, anchor_unmatched: 0 });
    expect(report.anchor).toMatchObject({ scored_rows: 35, errors: 1 });
    expect(report.anchor.scored_now).toBe(true);
    expect(report.alarm.fired).toBe(false);

    // The recount: the anchor scored apart, bits per byte from its rows and the corpus's texts, regions from
    // reference.jsonl.
    const sep = join(dir, 'separate');
    await scoreCorpus({ input: anchor, out: sep, model: 'stories260k', device: 'cpu', idField: 'id' });
    const texts = new Map(readJsonl<{ id: string; text: string }>(anchor).map((d) => [d.id, d.text]));
    const bpb = new Map(
      readJsonl<{ id: string; tokens: number; mean_nll: number }>(join(sep, 'scores.jsonl')).map((s) => [
        s.id,
        (s.mean_nll * s.tokens) / (Math.LN2 * Buffer.byteLength(texts.get(s.id)!, 'utf8')),
      ]),
    );
    const refRows = readJsonl<{ id: string; region: number }>(join(cov, 'reference.jsonl'));
    const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    expect(bpb.size).toBe(35);
    const valuesOf = (pred: (c: number) => boolean) =>
      refRows.filter((x) => pred(x.region) && bpb.has(x.id)).map((x) => bpb.get(x.id)!);
    for (const g of report.regions) {
      const xs = valuesOf((c) => c === g.region);
      expect(g.bits_per_byte.docs).toBe(xs.length);
      expect(g.bits_per_byte.mean).toBeCloseTo(mean(xs), 9);
      expect(g.tail).toBe(covReport.tails.includes(g.region));
    }
    const tail = valuesOf((c) => covReport.tails.includes(c));
    const head = valuesOf((c) => !covReport.tails.includes(c));
    expect(report.tail!.docs).toBe(tail.length);
    expect(report.tail!.mean).toBeCloseTo(mean(tail), 9);
    expect(report.head!.mean).toBeCloseTo(mean(head), 9);
    expect(report.gap!.value).toBeCloseTo(mean(tail) - mean(head), 9);
    expect(report.gap!.lo).toBeLessThan(report.gap!.value);
    expect(report.gap!.hi).toBeGreaterThan(report.gap!.value);

    const docs = readJsonl<TailbenchDocument>(join(out, 'documents.jsonl'));
    expect(docs.map((d) => d.id)).toEqual(refRows.map((x) => x.id));
    for (const d of docs)
      if (d.reference_row === 5) expect(d).toMatchObject({ id: 'r5', line: null, mean_nll: null, bits_per_byte: null });
      else expect(d.bits_per_byte).toBeCloseTo(bpb.get(d.id)!, 9);
    for (const d of docs) expect(d.region_label).toBe(covReport.clusters[d.region].label);
    // documents.parquet: the same rows, nulls included.
    const buf = readFileSync(join(out, 'documents.parquet'));
    const pq = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) });
    expect(pq.map((x) => [x.id, x.region_label, x.tail, x.bits_per_byte])).toEqual(
      docs.map((d) => [d.id, d.region_label, d.tail, d.bits_per_byte]),
    );
    expect(pq[5]).toMatchObject({ reference_row: 5n, line: null, tokens: null });
    const ledger = JSON.parse(readFileSync(join(dir, 'ledger.json'), 'utf8')) as TailbenchLedger;
    expect(ledger.generations.map((g) => [g.generation, g.tail!.mean])).toEqual([['g0', report.tail!.mean]]);
  }, 120_000);

  it('library: a score directory of the same model is read as it is, of another model scored again', async () => {
    const same = await tailbench({ model: 'stories260k', anchor: join(dir, 'separate'), coverage: cov });
    expect(same.anchor.scored_now).toBe(false);
    expect(same.tail!.mean).toBeCloseTo(report.tail!.mean!, 12);
    expect(same.gap).toEqual(report.gap);
    const other = await tailbench({
      model: TINY_GPT2,
      anchor: join(dir, 'separate'),
      coverage: cov,
      scoring: { device: 'cpu' },
    });
    expect(other.anchor.scored_now).toBe(true);
    expect(other.model.dir).toBe(TINY_GPT2);
    expect(other.documents.matched).toBe(35);
    expect(other.tail!.mean).not.toBeCloseTo(report.tail!.mean!, 3);
  }, 120_000);

  it('the alarm: a generation whose tail rose beyond its interval while the head held; exit 3 with --fail-on-tail-loss', () => {
    // An earlier generation whose tail was 0.5 bits per byte better and whose head was the same.
    const ledgerPath = join(dir, 'alarm-ledger.json');
    const g0 = JSON.parse(readFileSync(join(dir, 'ledger.json'), 'utf8')) as TailbenchLedger;
    const before = g0.generations[0]!;
    before.tail = { ...before.tail!, mean: before.tail!.mean! - 0.5 };
    writeFileSync(ledgerPath, JSON.stringify(g0));
    const args = ['tailbench', '--model', 'stories260k', '--anchor', join(dir, 'separate'), '--coverage', cov];
    const warn = runCli([...args, '--ledger', ledgerPath, '--generation', 'g1', '--quiet']);
    expect(warn.status, warn.stderr).toBe(0);
    expect(warn.stderr).toMatch(
      /^tailguard: ALARM: the tail degrades while the head holds: since generation g0 the tail's bits per byte changed by \+0\.5000 /m,
    );
    const fail = runCli([...args, '--ledger', ledgerPath, '--generation', 'g1', '--fail-on-tail-loss', '--quiet']);
    expect(fail.status, fail.stderr).toBe(3);
    expect(fail.stderr).toMatch(/^tailguard: CHECK FAILED: the tail degrades while the head holds/m);
    const l = JSON.parse(readFileSync(ledgerPath, 'utf8')) as TailbenchLedger;
    expect(l.generations.map((g) => g.generation)).toEqual(['g0', 'g1']);
  }, 120_000);

  it('errors name the path and what is wrong, exit 2, and no report is written', () => {
    const out = join(dir, 'bad');
    const args = (...more: string[]) => ['tailbench', '--model', 'stories260k', '--out', out, ...more];
    let r = runCli(args('--anchor', anchor, '--coverage', join(dir, 'nowhere')));
    expect([r.status, r.stderr]).toEqual([2, `tailguard: ${join(dir, 'nowhere')}: no such coverage directory\n`]);
    r = runCli(args('--anchor', join(dir, 'none.jsonl'), '--coverage', cov));
    expect([r.status, r.stderr]).toEqual([
      2,
      `tailguard: ${join(dir, 'none.jsonl')}: no such anchor corpus or score directory\n`,
    ]);
    r = runCli(args('--anchor', anchor, '--coverage', cov, '--ledger', join(dir, 'l.json')));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--ledger and --generation go together');
    r = runCli(args('--anchor', anchor, '--coverage', cov, '--z', '0'));
    expect([r.status, r.stderr]).toEqual([2, 'tailguard: --z must be a positive number, got 0\n']);
    // Another id field: no anchor document is a reference document.
    r = runCli(args('--anchor', anchor, '--coverage', cov, '--text-field', 'text', '--device', 'cpu', '--quiet'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/none of the 35 scored anchor documents has the id of a reference document/);
    expect(existsSync(join(out, 'report.json'))).toBe(false);
  }, 120_000);
});
