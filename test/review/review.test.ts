/**
 * `tailguard review export` and `review import` end to end on the hand-built outputs of fixture.ts. The queue of
 * budget 7 is worked out by hand (see 'takes the hand-worked queue'); the CSV is read back by a parser written here,
 * apart from the library the command uses; every import format is logged and the log only ever grows.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SCORES, TEXTS, THRESHOLD, writeFixture } from './fixture.js';
import { readJsonl, runCli } from '../helpers/cli.js';

/** `review export` of the fixture's detections, audit rows and tails into `out`, budget 7: the hand-worked queue. */
const exportArgs = (f: ReturnType<typeof writeFixture>, out: string): string[] => [
  'review',
  'export',
  '--detections',
  f.detections,
  '--audit',
  f.audit,
  '--tails',
  f.tails,
  '--out',
  out,
  '--budget',
  '7',
];

/** RFC 4180, by hand: quoted fields may hold commas, doubled quotes and newlines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}
const csvCell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

describe('review --help', () => {
  it('documents every option, in whole paragraphs that fit 80 columns', () => {
    const opts = {
      export: [
        '--detections',
        '--audit',
        '--tails',
        '--scores',
        '--out',
        '--budget',
        '--seed',
        '--overwrite',
        '--json',
      ],
      import: ['--log', '--queue', '--json'],
    };
    for (const [sub, flags] of Object.entries(opts)) {
      const r = runCli(['review', sub, '--help'], { env: { COLUMNS: '80' } });
      expect(r.status).toBe(0);
      for (const f of flags) expect(r.stdout, sub).toContain(f);
      const description = r.stdout.split('\nArguments:')[0]!.split('\nOptions:')[0]!.trimEnd();
      for (const line of description.split('\n')) expect(line.length, `${sub}: ${line}`).toBeLessThanOrEqual(80);
      for (const para of description.split('\n\n').slice(1))
        expect(
          para
            .split('\n')
            .slice(0, -1)
            .filter((l) => l.length < 40 && !/^\s/.test(l)),
          sub,
        ).toEqual([]);
    }
    const calibrate = runCli(['calibrate', '--help']);
    expect(calibrate.stdout).toContain('--reviewed <log>');
    expect(calibrate.stdout).toContain('--reviewed-scores <path>');
  });
});

describe('review export on hand-built detections', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-review-'));
  let f: ReturnType<typeof writeFixture>;
  let r: ReturnType<typeof runCli>;
  const q = join(dir, 'q');
  beforeAll(() => {
    f = writeFixture(dir);
    r = runCli(exportArgs(f, q));
  });

  it('takes the hand-worked queue', () => {
    // near_threshold ranks d1 .02, d2 .05, d8 .06, d4 .10, d7 .17, d6 .20, d0 .40, d3 .45, d9 .49 (d5 is declared
    // human: not a candidate). Turns over budget 7: near d1; tail one of {d9, t1}; held one of {d2, d8}; near the
    // next of d2/d8; tail the other; held spent (both taken); near d4, d7. Whatever the hash order, the queue is
    // {d1, d2, d8, d4, d7, d9, t1}, near_threshold took 4, the band is .17, and d9 (.49) is a tail only.
    expect(r.status, r.stderr).toBe(0);
    const rows = readJsonl(join(q, 'queue.jsonl'));
    expect(rows.map((x) => x.id).sort()).toEqual(['d1', 'd2', 'd4', 'd7', 'd8', 'd9', 't1']);
    expect(rows.map((x) => x.rank)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(rows.slice(0, 3).map((x) => x.selected_for)).toEqual(['near_threshold', 'tail_region', 'held_batch']);
    expect(rows[0]!.id).toBe('d1');
    expect(rows.slice(5).map((x) => x.id)).toEqual(['d4', 'd7']);
    const reasons = Object.fromEntries(rows.map((x) => [x.id, x.reasons]));
    expect(reasons).toEqual({
      d1: ['near_threshold'],
      d2: ['near_threshold', 'held_batch'],
      d8: ['near_threshold', 'held_batch'],
      d4: ['near_threshold'],
      d7: ['near_threshold'],
      d9: ['tail_region'],
      t1: ['tail_region'],
    });
    for (const x of rows) {
      const score = SCORES[x.id as string];
      expect(x.score).toBe(score ?? null);
      expect(x.distance === null ? null : +(x.distance as number).toFixed(12)).toBe(
        score === undefined ? null : +Math.abs(score - THRESHOLD).toFixed(12),
      );
      expect(x.text).toBe(TEXTS[x.id as string]);
      expect([x.verdict, x.reviewer, x.comment, x.reviewed_at]).toEqual(['', '', '', '']);
    }
    expect(rows.find((x) => x.id === 'd2')!.batch).toBe(0);
    expect(rows.find((x) => x.id === 'd2')!.why).toContain('entropy 3.100 bits < floor 4.000');
    expect(rows.find((x) => x.id === 't1')!.region).toBe('5');
    const s = JSON.parse(readFileSync(join(q, 'review.json'), 'utf8'));
    expect(s.band).toBeCloseTo(0.17, 12);
    expect(s).toMatchObject({
      budget: 7,
      seed: 1,
      queued: 7,
      candidates: { near_threshold: 9, tail_region: 2, held_batch: 2 },
      declared_provenance_skipped: 1,
      selected_for: { near_threshold: 4, tail_region: 2, held_batch: 1 },
      with_reason: { near_threshold: 5, tail_region: 2, held_batch: 2 },
      texts_missing: 0,
    });
    expect(r.stderr).toContain('queued 7 of a budget of 7');
    expect(r.stderr).toContain('|score − threshold| ≤ 0.1700');
  });

  it('queue.csv reads back, by an independent parser, to the same texts and fields', () => {
    const rows = readJsonl(join(q, 'queue.jsonl'));
    const [header, ...records] = parseCsv(readFileSync(join(q, 'queue.csv'), 'utf8'));
    expect(records).toHaveLength(rows.length);
    const col = (name: string) => header!.indexOf(name);
    records.forEach((rec, i) => {
      expect(rec).toHaveLength(header!.length);
      expect(rec[col('id')]).toBe(rows[i]!.id);
      expect(rec[col('text')]).toBe(rows[i]!.text); // commas, quotes, \n and \r\n, non-ASCII, byte for byte
      expect(rec[col('reasons')]).toBe((rows[i]!.reasons as string[]).join(';'));
      expect(rec[col('score')]).toBe(rows[i]!.score === null ? '' : String(rows[i]!.score));
    });
    expect(readFileSync(join(q, 'queue.csv'), 'utf8')).toContain('Line one\r\nline two');
  });

  it('writes Label Studio tasks and a config with the three verdicts and a comment', () => {
    const tasks = JSON.parse(readFileSync(join(q, 'label-studio.json'), 'utf8'));
    const rows = readJsonl(join(q, 'queue.jsonl'));
    expect(tasks).toHaveLength(7);
    expect(tasks[1].data).toMatchObject({
      id: rows[1]!.id,
      text: rows[1]!.text,
      reasons: (rows[1]!.reasons as string[]).join('; '),
    });
    const xml = readFileSync(join(q, 'label-studio.xml'), 'utf8');
    for (const v of ['human', 'machine', 'unsure']) expect(xml).toContain(`<Choice value="${v}"/>`);
    expect(xml).toMatch(/<Choices name="verdict" toName="text" choice="single"/);
    expect(xml).toMatch(/<TextArea name="comment"/);
  });

  it('the same seed gives the same queue; an existing queue needs --overwrite', () => {
    const args = exportArgs(f, q);
    const before = readFileSync(join(q, 'queue.jsonl'), 'utf8');
    const refused = runCli(args);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`${join(q, 'queue.jsonl')} exists`);
    expect(refused.stderr).toContain('--overwrite');
    expect(runCli([...args, '--overwrite']).status).toBe(0);
    expect(readFileSync(join(q, 'queue.jsonl'), 'utf8')).toBe(before);
  });

  it('a budget above the candidates queues every distinct candidate once', () => {
    const out = join(dir, 'all');
    const a = runCli([
      'review',
      'export',
      '--detections',
      join(dir, 'det'),
      '--audit',
      f.audit,
      '--tails',
      f.tails,
      '--out',
      out,
      '--budget',
      '100',
      '--json',
      '-q',
    ]);
    expect(a.status, a.stderr).toBe(0);
    const ids = readJsonl(join(out, 'queue.jsonl')).map((x) => x.id as string);
    expect(ids.sort()).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd6', 'd7', 'd8', 'd9', 't1']);
    expect(JSON.parse(a.stdout).queued).toBe(10);
  });

  it('detections alone: the closest to the threshold, in order', () => {
    const out = join(dir, 'near');
    expect(runCli(['review', 'export', '--detections', f.detections, '--out', out, '--budget', '3']).status).toBe(0);
    expect(readJsonl(join(out, 'queue.jsonl')).map((x) => x.id)).toEqual(['d1', 'd2', 'd8']);
  });

  it('a bad detections row is an error naming the file and line', () => {
    const bad = join(dir, 'bad-det');
    const path = join(bad, 'detections.jsonl');
    mkdirSync(bad);
    copyFileSync(join(dir, 'det', 'summary.json'), join(bad, 'summary.json'));
    writeFileSync(path, readFileSync(f.detections, 'utf8').replace('{"id":"d3"', '{"id":"d3" oops'));
    const e = runCli(['review', 'export', '--detections', path, '--out', join(dir, 'bad-q')]);
    expect(e.status).toBe(2);
    expect(e.stderr).toContain(`${path}:4: not JSON`);
  });
});

describe('review export with per-domain detectors', () => {
  it("measures each row's distance to its own detector's threshold, from the detector file the summary names", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-review-domains-'));
    const f = writeFixture(dir);
    // news rows are scored by a detector whose threshold is 2: n1 (2.3) is .3 from it, n2 (1.99) .01.
    writeFileSync(
      join(dir, 'detector.json'),
      JSON.stringify({ domains: { detectors: { news: { detector: { kind: 'logistic', threshold: 2 } } } } }),
    );
    const rows = [
      { id: 'n1', score: 2.3, detector: 'domain:news' },
      { id: 'd1', score: 0.52, detector: 'pooled' }, // .02 from the pooled 0.5
      { id: 'n2', score: 1.99, detector: 'domain:news' },
      { id: 'd0', score: 0.9, detector: 'pooled' }, // .4
    ];
    writeFileSync(f.detections, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const out = join(dir, 'q');
    const r = runCli(['review', 'export', '--detections', f.detections, '--out', out, '--budget', '3']);
    expect(r.status, r.stderr).toBe(0);
    const q = readJsonl(join(out, 'queue.jsonl'));
    expect(q.map((x) => [x.id, x.threshold])).toEqual([
      ['n2', 2],
      ['d1', 0.5],
      ['n1', 2],
    ]);
    expect(JSON.parse(readFileSync(join(out, 'review.json'), 'utf8')).band).toBeCloseTo(0.3, 12);

    writeFileSync(f.detections, JSON.stringify({ id: 'x', score: 1, detector: 'domain:law' }) + '\n');
    const e = runCli(['review', 'export', '--detections', f.detections, '--out', join(dir, 'q2')]);
    expect(e.status).toBe(2);
    expect(e.stderr).toContain(`${f.detections}:1: no threshold is known for detector domain:law`);
  });
});

describe('review import', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-review-import-'));
  const q = join(dir, 'q');
  const log = join(dir, 'review-log.jsonl');
  let rows: Record<string, unknown>[];
  beforeAll(() => {
    const f = writeFixture(dir);
    expect(runCli(exportArgs(f, q)).status).toBe(0);
    rows = readJsonl(join(q, 'queue.jsonl'));
  });
  const idAt = (i: number) => rows[i]!.id as string;

  it('JSONL: logs each verdict with reviewer, time and reason; never rewrites; logs a decision again only when it changed', () => {
    const filled = rows.map((r, i) =>
      i === 0
        ? {
            ...r,
            verdict: 'machine',
            reviewer: 'ann',
            comment: 'too smooth, "very"',
            reviewed_at: '2026-11-30T09:00:00Z',
          }
        : i === 1
          ? { ...r, verdict: ' Human ', reviewer: 'bob' }
          : i === 2
            ? { ...r, verdict: 'unsure', reviewer: 'ann' }
            : r,
    );
    const path = join(q, 'filled.jsonl');
    writeFileSync(path, filled.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const a = runCli(['review', 'import', path, '--log', log, '--json']);
    expect(a.status, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({
      read: 7,
      logged: 3,
      by_verdict: { human: 1, machine: 1, unsure: 1 },
      unchanged: 0,
      unreviewed: 4,
      format: 'jsonl',
    });
    const entries = readJsonl(log);
    expect(entries.map((e) => [e.id, e.verdict, e.reviewer])).toEqual([
      [idAt(0), 'machine', 'ann'],
      [idAt(1), 'human', 'bob'],
      [idAt(2), 'unsure', 'ann'],
    ]);
    expect(entries[0]).toMatchObject({
      time: '2026-11-30T09:00:00.000Z',
      reason: 'too smooth, "very"',
      queue_reasons: rows[0]!.reasons,
      source: path,
      source_at: 'line 1',
    });
    expect(Date.parse(entries[1]!.time as string)).toBeGreaterThan(Date.parse('2026-12-01'));

    const before = readFileSync(log, 'utf8');
    const again = runCli(['review', 'import', path, '--log', log, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ logged: 0, unchanged: 3 });
    expect(readFileSync(log, 'utf8')).toBe(before);

    filled[0] = { ...filled[0]!, verdict: 'human', comment: 'on second reading, a person' };
    writeFileSync(path, filled.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const changed = runCli(['review', 'import', path, '--log', log, '--json']);
    expect(JSON.parse(changed.stdout)).toMatchObject({ logged: 1, unchanged: 2 });
    const after = readFileSync(log, 'utf8');
    expect(after.startsWith(before)).toBe(true);
    expect(readJsonl(log).at(-1)).toMatchObject({
      id: idAt(0),
      verdict: 'human',
      reason: 'on second reading, a person',
    });
  });

  it('CSV from a spreadsheet: quoted comments survive; a bad verdict names the line it starts on, and nothing is logged', () => {
    const [header, ...records] = parseCsv(readFileSync(join(q, 'queue.csv'), 'utf8'));
    const col = (n: string) => header!.indexOf(n);
    records[3]![col('verdict')] = 'MACHINE';
    records[3]![col('reviewer')] = 'cy';
    records[3]![col('comment')] = 'repeats itself, "as if"\nprompted';
    const write = (recs: string[][]) => [header!, ...recs].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
    const path = join(q, 'filled.csv');
    writeFileSync(path, write(records));
    const before = existsSync(log) ? readFileSync(log, 'utf8') : '';
    const a = runCli(['review', 'import', path, '--log', log, '--json']);
    expect(a.status, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ format: 'csv', read: 7, logged: 1, by_verdict: { machine: 1 } });
    const last = readJsonl(log).at(-1)!;
    expect(last).toMatchObject({
      id: idAt(3),
      verdict: 'machine',
      reviewer: 'cy',
      reason: 'repeats itself, "as if"\nprompted',
    });
    // The record of the 4th document starts after the header and three records, each as many lines as it has newlines.
    const text = write(records);
    const start = text.split('\n').findIndex((l) => l.startsWith(`4,${idAt(3)},`)) + 1;
    expect(last.source_at).toBe(`line ${start}`);

    records[5]![col('verdict')] = 'probably machine';
    writeFileSync(path, write(records));
    const logged = readFileSync(log, 'utf8');
    const bad = runCli(['review', 'import', path, '--log', log]);
    expect(bad.status).toBe(2);
    const badLine =
      write(records)
        .split('\n')
        .findIndex((l) => l.startsWith(`6,${idAt(5)},`)) + 1;
    expect(bad.stderr).toContain(`${path}:${badLine}: verdict "probably machine" is not one of human, machine, unsure`);
    expect(readFileSync(log, 'utf8')).toBe(logged);
    expect(logged.startsWith(before)).toBe(true);
  });

  it('Label Studio export: one decision per annotation, cancelled ones skipped, annotators named', () => {
    const tasks = JSON.parse(readFileSync(join(q, 'label-studio.json'), 'utf8')) as { data: { id: string } }[];
    const ann = (choice: string, by: unknown, extra: Record<string, unknown> = {}) => ({
      id: 1,
      completed_by: by,
      result: [
        { from_name: 'verdict', to_name: 'text', type: 'choices', value: { choices: [choice] } },
        { from_name: 'comment', to_name: 'text', type: 'textarea', value: { text: ['fluent but empty'] } },
      ],
      was_cancelled: false,
      created_at: '2026-12-01T08:00:00.000000Z',
      updated_at: '2026-12-01T08:05:00.000000Z',
      ...extra,
    });
    const exported = tasks.map((t, i) => ({
      id: 100 + i,
      data: t.data,
      annotations:
        i === 4
          ? [ann('machine', { id: 3, email: 'dee@example.org' }), ann('human', 7)]
          : i === 5
            ? [ann('human', 7, { was_cancelled: true })]
            : [],
    }));
    const path = join(dir, 'project-1-at-2026-12-01.json');
    writeFileSync(path, JSON.stringify(exported, null, 2));
    const a = runCli(['review', 'import', path, '--log', log, '--queue', join(q, 'queue.jsonl'), '--json']);
    expect(a.status, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ format: 'label-studio', read: 2, logged: 2, cancelled: 1 });
    expect(readJsonl(log).slice(-2)).toMatchObject([
      {
        id: idAt(4),
        verdict: 'machine',
        reviewer: 'dee@example.org',
        reason: 'fluent but empty',
        time: '2026-12-01T08:05:00.000Z',
        source_at: 'task 5 (Label Studio id 104), annotation 1',
      },
      { id: idAt(4), verdict: 'human', reviewer: 'user:7' },
    ]);

    exported[0]!.data = { ...exported[0]!.data, id: 'nobody' };
    exported[0]!.annotations = [ann('human', 7)];
    writeFileSync(path, JSON.stringify(exported));
    const e = runCli(['review', 'import', path, '--log', log, '--queue', join(q, 'queue.jsonl')]);
    expect(e.status).toBe(2);
    expect(e.stderr).toContain(`${path}: task 1 (Label Studio id 100), annotation 1: id "nobody" is not in the queue`);
  });

  it('an id the queue does not hold is an error naming the file and line', () => {
    const path = join(q, 'stranger.jsonl');
    writeFileSync(
      path,
      `${JSON.stringify({ id: idAt(0), verdict: '' })}\n\n${JSON.stringify({ id: 'zz', verdict: 'human' })}\n`,
    );
    const e = runCli(['review', 'import', path, '--log', log]);
    expect(e.status).toBe(2);
    expect(e.stderr).toContain(`${path}:3: id "zz" is not in the queue ${join(q, 'queue.jsonl')}`);
  });
});
