/**
 * `calibrate --reviewed`: the latest human/machine verdict of each reviewed document overrides the set it came from.
 * Counted by hand on 60 + 60 fake rows; the out-of-fold file's labels show which rows calibration fitted as what,
 * so the test fails if the override were ignored.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fakeRows, writeScoreDir } from '../detect/fake-scores.js';
import { readJsonl, runCli } from '../helpers/cli.js';

describe('calibrate --reviewed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-reviewed-'));
  const log = join(dir, 'review-log.jsonl');
  const common = ['--features', 'signals', '--fpr', '0.1', '--folds', '3', '--inner-folds', '2', '--l2', '1'];
  /** `calibrate` of the human set h against the synthetic set s, writing the detector to `out`. */
  const calibrate = (out: string, more: string[]) =>
    runCli(['calibrate', '--human', join(dir, 'h'), '--synthetic', join(dir, 's'), '--out', out, ...more]);
  beforeAll(() => {
    writeScoreDir(join(dir, 'h'), fakeRows(60, false, 1)); // ids h0…h59
    writeScoreDir(join(dir, 's'), fakeRows(60, true, 2)); // ids s0…s59
    const e = (id: string, verdict: string, time: string) =>
      JSON.stringify({
        id,
        verdict,
        reviewer: 'ann',
        time,
        reason: null,
        queue_reasons: [],
        source: 'x',
        source_at: 'line 1',
        logged_at: time,
      });
    const t0 = '2026-12-01T00:00:00.000Z';
    const t1 = '2026-12-02T00:00:00.000Z';
    writeFileSync(
      log,
      [
        ...Array.from({ length: 10 }, (_, i) => e(`h${i}`, 'machine', t0)), // 10 human rows → machine
        ...Array.from({ length: 5 }, (_, i) => e(`s${i}`, 'human', t0)), // 5 machine rows → human
        e('s5', 'unsure', t0), // ignored: s5 stays machine
        e('h10', 'machine', t0),
        e('h10', 'human', t1), // latest is human: confirmed, h10 stays
        e('h11', 'human', t1),
        e('h11', 'machine', t0), // logged later but older: h11 stays human
        e('s6', 'human', t1),
        e('s6', 'unsure', '2026-12-03T00:00:00.000Z'), // an unsure verdict does not undo the latest label: s6 → human
        e('nowhere', 'machine', t0), // not in calibration
      ].join('\n') + '\n',
    );
  });

  it('moves the reviewed rows between the sets and says so', () => {
    const out = join(dir, 'reviewed.json');
    const r = calibrate(out, ['--reviewed', log, ...common, '-q']);
    expect(r.status, r.stderr).toBe(0);
    const det = JSON.parse(readFileSync(out, 'utf8'));
    // human: 60 − 10 (h0–h9) + 6 (s0–s4, s6) = 56; machine: 60 + 10 − 6 = 64.
    expect(det.calibration.n_human).toBe(56);
    expect(det.calibration.n_synthetic).toBe(64);
    expect(det.reviewed).toMatchObject({
      log,
      entries: 23, // 10 + 5 + 1 + 2 + 2 + 2 + 1
      unsure_ignored: 2,
      labelled_documents: 19, // h0–h9, s0–s4, h10, h11, s6, nowhere
      found: 18,
      not_found: 1,
      human_to_machine: 10,
      machine_to_human: 6,
      confirmed: 2, // h10, h11
    });
    const label = new Map(readJsonl(out.replace(/\.json$/, '.oof.jsonl')).map((x) => [x.id, x.label]));
    expect(label.size).toBe(120);
    for (let i = 0; i < 10; i++) expect(label.get(`h${i}`)).toBe('synthetic');
    for (const id of ['s0', 's1', 's2', 's3', 's4', 's6']) expect(label.get(id)).toBe('human');
    for (const id of ['h10', 'h11', 'h12']) expect(label.get(id)).toBe('human');
    for (const id of ['s5', 's7']) expect(label.get(id)).toBe('synthetic');
    expect(r.stderr).toContain(
      '10 rows moved human → machine, 6 machine → human, 2 confirmed; 1 found nowhere (not used)',
    );
  });

  it('--reviewed-scores adds reviewed documents that are in neither set, once', () => {
    // The queue's corpus: q0–q9, and h10 again (in the human set already: not added twice).
    const q = [
      ...fakeRows(10, true, 5).map((r, i) => ({ ...r, id: `q${i}` })),
      { ...fakeRows(1, false, 6)[0]!, id: 'h10' },
    ];
    writeScoreDir(
      join(dir, 'q'),
      q.map((r, i) => ({ ...r, line: i + 1 })),
    );
    const log2 = join(dir, 'review-log-2.jsonl');
    const more = [
      ['q0', 'machine'],
      ['q1', 'machine'],
      ['q2', 'human'],
    ].map(([id, verdict]) => JSON.stringify({ id, verdict, reviewer: 'bo', time: '2026-12-04T00:00:00.000Z' }));
    writeFileSync(log2, readFileSync(log, 'utf8') + more.join('\n') + '\n');
    const out = join(dir, 'added.json');
    const r = calibrate(out, ['--reviewed', log2, '--reviewed-scores', join(dir, 'q'), ...common, '-q']);
    expect(r.status, r.stderr).toBe(0);
    const det = JSON.parse(readFileSync(out, 'utf8'));
    expect([det.calibration.n_human, det.calibration.n_synthetic]).toEqual([57, 66]);
    expect(det.reviewed).toMatchObject({
      entries: 26,
      labelled_documents: 22,
      found: 21,
      not_found: 1,
      added: 3,
      confirmed: 2,
    });
    const oof = readJsonl(out.replace(/\.json$/, '.oof.jsonl'));
    expect(oof).toHaveLength(123);
    const label = new Map(oof.map((x) => [x.id, x.label]));
    expect([label.get('q0'), label.get('q1'), label.get('q2'), label.has('q3')]).toEqual([
      'synthetic',
      'synthetic',
      'human',
      false,
    ]);
    expect(oof.filter((x) => x.id === 'h10')).toHaveLength(1);
    expect(r.stderr).toContain(`3 added from ${join(dir, 'q')}`);
  });

  it('without --reviewed, the sets are as given', () => {
    const out = join(dir, 'plain.json');
    const r = calibrate(out, [...common, '-q']);
    expect(r.status, r.stderr).toBe(0);
    const det = JSON.parse(readFileSync(out, 'utf8'));
    expect([det.calibration.n_human, det.calibration.n_synthetic]).toEqual([60, 60]);
    expect(det.reviewed).toBeUndefined();
  });

  it('a bad log line stops calibration, naming the line', () => {
    const bad = join(dir, 'bad-log.jsonl');
    writeFileSync(bad, readFileSync(log, 'utf8').replace('"verdict":"unsure"', '"verdict":"maybe"'));
    const r = calibrate(join(dir, 'x.json'), ['--reviewed', bad, ...common]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${bad}:16: verdict "maybe" is not one of human, machine, unsure`);
    const missing = calibrate(join(dir, 'x.json'), ['--reviewed', join(dir, 'nope.jsonl')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('no such review log (--reviewed)');
  });
});
