/**
 * `tailguard anchor check` as a user runs it: exit statuses 0 / 2 / 3, the summary and the gate's reasons on stderr
 * in flags, stdin as the mix, a directory of .txt as the anchor, and a real `detect` run (score directory and
 * detections.jsonl) read as the mix.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJsonl, runCli, toJsonl, writeJsonl } from '../helpers/cli.js';

const run = (args: string[], input?: string) => runCli(args, { input });

const ANCHOR = [
  { id: 'a1', text: 'Tom had a red ball and he liked it.' },
  { id: 'a2', text: 'The sun was warm on the green hill.' },
  { id: 'a3', text: 'Lily found a small cat in the garden.' },
  { id: 'a4', text: 'They ate cake by the river at noon.' },
];
// a1 by id and text, a2 by text under another id, a3 altered, a4 missing; 3 of 6 rows are anchor rows.
const MIX = [
  { id: 'a1', text: 'Tom had a red ball and he liked it.' },
  { id: 'g1', text: 'A robot wrote this line about a dog.' },
  { id: 'z2', text: 'the sun was warm on the  green hill.' },
  { id: 'a3', text: 'Lily found a big dog in the garden.' },
  { id: 'g2', text: 'Another generated line, about a boat.' },
  { id: 'a1', text: 'Tom had a red ball and he liked it.' },
];

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-anchor-cli-'));
  writeJsonl(join(dir, 'anchor.jsonl'), ANCHOR);
  writeJsonl(join(dir, 'mix.jsonl'), MIX);
  return { dir, anchor: join(dir, 'anchor.jsonl'), mix: join(dir, 'mix.jsonl') };
}

describe('tailguard anchor check', () => {
  it('exit 0: the summary on stderr, report.json on stdout with --json, the files in OUT', () => {
    const c = setup();
    const out = join(c.dir, 'out');
    const r = run(['anchor', 'check', c.mix, '--anchor', c.anchor, '--id-field', 'id', '--out', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('present 3 of 4 (by id 2, by text 2); missing 1: "a4"');
    expect(r.stderr).toContain('anchor share of the mix 50.00% (3 of 6 rows)');
    expect(r.stderr).toContain('altered (id kept, text changed) 1: "a3"');
    expect(r.stderr).toContain('in the mix more than once 1 (1 extra rows): "a1"');
    const report = JSON.parse(r.stdout);
    expect(report).toEqual(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')));
    expect(report.share).toEqual({ anchor_rows: 3, mix_rows: 6, value: 0.5 });
    expect(readJsonl(join(out, 'missing.jsonl'))).toEqual([{ id: 'a4', line: 4 }]);
    expect(readJsonl(join(out, 'anchor.jsonl')).map((x) => x.status)).toEqual([
      'present',
      'present',
      'altered',
      'missing',
    ]);
  });

  it('exit 3 when the share is under --min-share or too many are missing; the reasons name the flags', () => {
    const c = setup();
    const base = ['anchor', 'check', c.mix, '--anchor', c.anchor, '--id-field', 'id', '--quiet'];
    expect(run([...base, '--min-share', '0.5', '--max-missing', '1']).status).toBe(0);
    const share = run([...base, '--min-share', '0.51']);
    expect(share.status).toBe(3);
    expect(share.stderr).toContain(
      "CHECK FAILED: the anchor's share of the mix 0.5000 (3/6 rows) is below --min-share 0.51",
    );
    const missing = run([...base, '--max-missing', '0']);
    expect(missing.status).toBe(3);
    expect(missing.stderr).toContain('1 of 4 anchor documents are missing from the mix, more than --max-missing 0');
    expect(missing.stderr).not.toContain('present 3 of 4'); // --quiet
  });

  it('exit 2 on bad input, naming the file and line, or the option', () => {
    const c = setup();
    const gone = run(['anchor', 'check', c.mix, '--anchor', join(c.dir, 'gone.jsonl')]);
    expect(gone.status).toBe(2);
    expect(gone.stderr).toContain(`${join(c.dir, 'gone.jsonl')}: no such file or directory`);
    writeFileSync(c.mix, toJsonl(MIX.slice(0, 2)) + '{"id": "a9", "text": oops}\n');
    const bad = run(['anchor', 'check', c.mix, '--anchor', c.anchor, '--out', join(c.dir, 'o')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(new RegExp(`tailguard: ${c.mix}:3: .*JSON`));
    const opt = run(['anchor', 'check', c.mix, '--anchor', c.anchor, '--min-share', '2']);
    expect(opt.status).toBe(2);
    expect(opt.stderr).toContain('--min-share must be a number in [0, 1]');
    const ledger = run(['anchor', 'check', c.mix, '--anchor', c.anchor, '--ledger', join(c.dir, 'l.json')]);
    expect(ledger.status).toBe(2);
    expect(ledger.stderr).toContain('--ledger and --generation go together');
  });

  it('reads the mix from stdin and a directory of .txt as the anchor (ids: relative paths)', () => {
    const c = setup();
    const txt = join(c.dir, 'anchor-txt');
    mkdirSync(join(txt, 'sub'), { recursive: true });
    writeFileSync(join(txt, 'a.txt'), ANCHOR[0]!.text);
    writeFileSync(join(txt, 'sub', 'b.txt'), ANCHOR[3]!.text);
    const mix = toJsonl([{ id: 'sub/b.txt', text: 'something else' }, MIX[0]!]);
    const r = run(['anchor', 'check', '-', '--anchor', txt, '--id-field', 'id', '--json', '--quiet'], mix);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.anchor).toMatchObject({ documents: 2, ids: 'path' });
    expect(report.present).toEqual({ by_id: 1, by_text: 1, by_either: 2 });
    expect(report.altered.examples).toEqual([{ id: 'sub/b.txt', line: 2 }]);
    expect(report.share).toEqual({ anchor_rows: 1, mix_rows: 2, value: 0.5 });
  });

  it('--help describes the command and its exit statuses, in whole paragraphs of 80 columns', () => {
    const r = run(['anchor', 'check', '--help']);
    expect(r.status).toBe(0);
    const paragraphs = r.stdout.split('\n\n').slice(1, 4);
    for (const p of paragraphs) {
      const lines = p.split('\n');
      for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
      expect(lines.slice(0, -1).filter((l) => l.length < 40)).toEqual([]); // rewrapped, not cut up
    }
    for (const s of ['--anchor', '--min-share', '--max-missing', '--detections-of', '--ledger', 'Exit status'])
      expect(r.stdout).toContain(s);
  });
});

describe('after a real detect run', () => {
  it("reads detect's score directory as the mix and its detections over the mix", () => {
    const c = setup();
    const det = join(c.dir, 'det');
    const d = run([
      'detect',
      c.mix,
      '--id-field',
      'id',
      '--model',
      'tailguard-ref-6m',
      '--device',
      'cpu',
      '--out',
      det,
      '--quiet',
    ]);
    expect(d.status, d.stderr).toBe(0);
    const detections = readJsonl(join(det, 'detections.jsonl'));
    // The anchor rows are lines 1, 3 and 6; whichever of them the detector flags must be counted.
    const flaggedAnchorRows = detections.filter(
      (x) => [1, 3, 6].includes(x.line as number) && x.verdict === 'synthetic',
    );
    const flaggedDocs = new Set(flaggedAnchorRows.map((x) => (x.line === 3 ? 'a2' : 'a1')));
    const ledger = join(c.dir, 'anchor-ledger.json');
    const r = run([
      'anchor',
      'check',
      join(det, 'scores'),
      '--anchor',
      c.anchor,
      '--id-field',
      'id', // the anchor's; the score directory's own is id too
      '--detections',
      join(det, 'detections.jsonl'),
      '--detections-of',
      'mix',
      '--ledger',
      ledger,
      '--generation',
      'gen1',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.mix).toMatchObject({ score_dir: true, corpus: c.mix, id_field: 'id', rows: 6 });
    expect(report.present).toEqual({ by_id: 2, by_text: 2, by_either: 3 });
    expect(report.contamination).toMatchObject({
      of: 'mix',
      flagged_rows: flaggedAnchorRows.length,
      flagged_documents: flaggedDocs.size,
      unscored_rows: 0,
    });
    expect(r.stderr).toContain(`ledger ${ledger}: share over generations gen1 50.00%`);
  });
});
