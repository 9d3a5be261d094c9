/**
 * `tailguard calibrate` and `tailguard detect` as a user runs them: score directories reused, a corpus scored and
 * joined with its own provenance fields, the corrected synthetic ratio and its check, exit statuses.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fakeRows, writeScoreDir } from './fake-scores.js';
import { ROOT, readJsonl, runCli } from '../helpers/cli.js';

describe('calibrate → detect on score directories', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-detect-'));
  beforeAll(() => {
    writeScoreDir(join(dir, 'h'), fakeRows(400, false, 1));
    writeScoreDir(join(dir, 's'), fakeRows(300, true, 2));
    // 300 human + 100 synthetic: true share 25%, synthetic-to-real ratio 1/3.
    const mix = [...fakeRows(300, false, 3), ...fakeRows(100, true, 4)].map((r, i) => ({
      ...r,
      id: `m${i}`,
      line: i + 1,
    }));
    writeScoreDir(join(dir, 'mix'), mix);
  });

  it('calibrate writes detector.json and reports every candidate', () => {
    const r = runCli([
      'calibrate',
      '--human',
      join(dir, 'h'),
      '--synthetic',
      join(dir, 's'),
      '--out',
      join(dir, 'detector.json'),
    ]);
    expect(r.status, r.stderr).toBe(0);
    for (const k of ['fast_detect', 'mean_nll', 'mean_log_rank', 'mean_entropy', 'ensemble_2of3', 'logistic'])
      expect(r.stdout).toContain(k);
    expect(r.stdout).toContain('logistic_signals'); // the scalar signals alone, beside the default features
    const det = JSON.parse(readFileSync(join(dir, 'detector.json'), 'utf8'));
    expect(det).toMatchObject({
      format: 'tailguard-detector/2',
      model: 'fake-lm/onnx/model.onnx',
      target_fpr: 0.01,
      detector: { kind: 'logistic' },
    });
    // The default features: 11 signals, 10 token-distribution signals, the 8-d embedding; the penalty chosen by
    // cross-validation on the grid, again inside each of the 5 outer folds (4 inner folds).
    expect(det.calibration.features).toEqual({ groups: ['signals', 'tokens', 'embedding'], count: 29 });
    expect(det.detector.model.features).toHaveLength(29);
    const p = det.calibration.penalty;
    expect(p.curve.map((c: { l2: number }) => c.l2)).toEqual([300, 100, 30, 10, 3, 1, 0.3]);
    expect(p.l2).toBe(
      p.curve.reduce((a: { l2: number; log_loss: number }, c: { l2: number; log_loss: number }) =>
        c.log_loss < a.log_loss ? c : a,
      ).l2,
    );
    expect(det.detector.model.l2).toBe(p.l2);
    expect(p.fold_l2).toHaveLength(5);
    expect(p.inner_folds).toBe(4);
    expect(r.stdout).toContain(`L2 penalty ${p.l2} (cross-validated; per outer fold ${p.fold_l2.join(', ')})`);
    expect(r.stdout).toContain(`out-of-fold scores: ${join(dir, 'detector.oof.jsonl')}`);
    expect(det.reference_embedding.centroid).toHaveLength(8);
  });

  it('detect: one row per document, the corrected share brackets the truth, --max-synthetic-ratio fails with exit 3', () => {
    const out = join(dir, 'det');
    const r = runCli([
      'detect',
      join(dir, 'mix'),
      '--detector',
      join(dir, 'detector.json'),
      '--out',
      out,
      '--json',
      '--max-synthetic-ratio',
      '0.2',
    ]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/synthetic-to-real ratio 0\.\d+ exceeds --max-synthetic-ratio 0\.2/);
    const rows = readJsonl(join(out, 'detections.jsonl'));
    expect(rows).toHaveLength(400);
    expect(Object.keys(rows[0]!)).toEqual(['id', 'line', 'p_synthetic', 'score', 'verdict', 'provenance', 'detector']);
    const summary = JSON.parse(r.stdout);
    expect(summary.synthetic.corrected).toBe(true);
    expect(summary.synthetic.share_ci[0]).toBeLessThan(0.25);
    expect(summary.synthetic.share_ci[1]).toBeGreaterThan(0.25);
    expect(summary.counts['human-unverified'] + summary.counts['synthetic-suspected']).toBe(400);
    expect(
      runCli([
        'detect',
        join(dir, 'mix'),
        '--detector',
        join(dir, 'detector.json'),
        '--out',
        out,
        '--quiet',
        '--max-synthetic-ratio',
        '0.5',
      ]).status,
    ).toBe(0);
  });

  it("refuses a detector calibrated on another model's signals", () => {
    writeScoreDir(join(dir, 'other'), fakeRows(10, false, 5), { modelDir: '/models/other-lm' });
    const r = runCli([
      'detect',
      join(dir, 'other'),
      '--detector',
      join(dir, 'detector.json'),
      '--out',
      join(dir, 'o2'),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/calibrated on signals of fake-lm\/onnx\/model\.onnx, the input was scored with other-lm/);
  });

  it('refuses too few human examples for the target FPR (exit 2, clear message)', () => {
    writeScoreDir(join(dir, 'few'), fakeRows(100, false, 6));
    const r = runCli([
      'calibrate',
      '--human',
      join(dir, 'few'),
      '--synthetic',
      join(dir, 's'),
      '--out',
      join(dir, 'd2.json'),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/100 human documents cannot certify a 1% false-positive rate: at least 299 are needed/);
  });

  it('rejects bad numeric options before reading anything (exit 2, names the option)', () => {
    const base = [
      'calibrate',
      '--human',
      join(dir, 'h'),
      '--synthetic',
      join(dir, 's'),
      '--out',
      join(dir, 'bad.json'),
    ];
    for (const [flag, value, message] of [
      ['--folds', '1', /--folds must be an integer ≥ 2/],
      ['--l2', '-1', /--l2 must be a number ≥ 0/],
      ['--seed', '1.5', /--seed must be an integer ≥ 0/],
      ['--min-per-class', 'x', /--min-per-class must be a positive integer/],
    ] as const) {
      const r = runCli([...base, flag, value]);
      expect(r.status, flag).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const spans = runCli(['detect', join(dir, 'h'), '--out', join(dir, 'bad-det'), '--spans', '0']);
    expect(spans.status).toBe(2);
    expect(spans.stderr).toMatch(/--spans must be a positive integer/);
  });
});

describe("detect on a corpus: scored with the model, provenance from the rows' own fields", () => {
  it("declared rows keep their label; the rest get the detector's; scores are reused on the second run", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-detect-corpus-'));
    // A detector over stories260k's signals (fitted on hand-made rows, so its verdicts are arbitrary but valid).
    writeScoreDir(join(dir, 'h'), fakeRows(120, false, 1), { modelDir: join(ROOT, 'models', 'stories260k') });
    writeScoreDir(join(dir, 's'), fakeRows(120, true, 2), { modelDir: join(ROOT, 'models', 'stories260k') });
    // The fake rows' embeddings are 8-d, stories260k's 64-d: this detector reads the scalar groups only.
    expect(
      runCli([
        'calibrate',
        '--human',
        join(dir, 'h'),
        '--synthetic',
        join(dir, 's'),
        '--out',
        join(dir, 'det.json'),
        '--fpr',
        '0.05',
        '--features',
        'signals,tokens',
      ]).status,
    ).toBe(0);
    const docs = [
      { id: 'a', origin: 'human', text: 'Tom had a big red ball. He threw it to his dog, and the dog ran after it.' },
      {
        id: 'b',
        origin: 'SYNTHETIC',
        text: 'Once upon a time, there was a little girl named Lily. She loved to play outside.',
      },
      { id: 'c', text: 'The quarterly report shows revenue growth of four percent across all regions.' },
      { id: 'd', origin: 'unknown', text: 'It was the best of times, it was the worst of times.' },
      { id: 'e', text: 42 },
    ];
    writeFileSync(join(dir, 'in.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    const args = [
      'detect',
      join(dir, 'in.jsonl'),
      '--id-field',
      'id',
      '--model',
      'stories260k',
      '--device',
      'cpu',
      '--detector',
      join(dir, 'det.json'),
      '--out',
      join(dir, 'out'),
      '--provenance-field',
      'origin',
      '--json',
    ];
    const r = runCli(args);
    expect(r.status, r.stderr).toBe(1); // row e could not be scored: exit 1, reported, the rest goes on
    const rows = readJsonl(join(dir, 'out', 'detections.jsonl'));
    expect(rows.map((x) => x.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(rows[0]!.provenance).toBe('human-verified');
    expect(rows[1]!.provenance).toBe('synthetic-known');
    for (const x of rows.slice(2)) expect(['human-unverified', 'synthetic-suspected']).toContain(x.provenance);
    const summary = JSON.parse(r.stdout);
    expect(summary.counts).toMatchObject({ scored: 4, errors: 1, 'human-verified': 1, 'synthetic-known': 1 });
    expect(readJsonl(join(dir, 'out', 'scores', 'errors.jsonl'))[0]).toMatchObject({ id: 'e' });
    const finished = JSON.parse(readFileSync(join(dir, 'out', 'scores', 'run.json'), 'utf8')).finished_at;
    expect(r.stderr).toMatch(/scoring .*in\.jsonl with stories260k/);
    const again = runCli(args);
    expect(again.status).toBe(1);
    expect(again.stderr).not.toMatch(/scoring /); // the finished scoring run was reused, not redone
    expect(JSON.parse(readFileSync(join(dir, 'out', 'scores', 'run.json'), 'utf8')).finished_at).toBe(finished);
    expect(readJsonl(join(dir, 'out', 'detections.jsonl'))).toEqual(rows);

    // A detector that reads 8-d embeddings refuses the model's 64-d ones, naming both sizes.
    expect(
      runCli([
        'calibrate',
        '--human',
        join(dir, 'h'),
        '--synthetic',
        join(dir, 's'),
        '--out',
        join(dir, 'det8.json'),
        '--fpr',
        '0.05',
        '--features',
        'signals,embedding',
      ]).status,
    ).toBe(0);
    const wrong = runCli([
      'detect',
      join(dir, 'out', 'scores'),
      '--detector',
      join(dir, 'det8.json'),
      '--out',
      join(dir, 'out8'),
    ]);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/reads 8-dimensional document embeddings, the input's are 64-dimensional/);
  });
});

describe("detect without --detector: the model's zero-shot reference", () => {
  it("uses Fast-DetectGPT at --fpr on the model's human scores, says so, and does not pretend to correct the ratio", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-zeroshot-'));
    const model = join(dir, 'model');
    cpSync(join(ROOT, 'models', 'stories260k'), model, { recursive: true });
    writeFileSync(
      join(dir, 'in.jsonl'),
      ['Tom had a big red ball.', 'It was the best of times, it was the worst of times.']
        .map((text) => JSON.stringify({ text }))
        .join('\n') + '\n',
    );
    const args = [
      'detect',
      join(dir, 'in.jsonl'),
      '--model',
      model,
      '--device',
      'cpu',
      '--out',
      join(dir, 'out'),
      '--json',
    ];
    const none = runCli(args);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no --detector given and .* has no zero-shot reference/);
    const human = Array.from({ length: 200 }, (_, i) => -10 + i * 0.05); // fast_detect of 200 human documents: -10 .. -0.05
    writeFileSync(
      join(model, 'zero-shot.json'),
      JSON.stringify({ signal: 'fast_detect', source: 'test', human_scores: human }),
    );
    const r = runCli([...args, '--fpr', '0.05']);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.detector).toMatchObject({
      zero_shot: true,
      kind: 'signal',
      target_fpr: 0.05,
      threshold: human[189],
    });
    expect(summary.synthetic.corrected).toBe(false);
    expect(summary.synthetic.note).toMatch(/true-positive rate was never measured/);
    expect(r.stderr).toMatch(/\[zero-shot default\]/);
    const rows = readJsonl(join(dir, 'out', 'detections.jsonl'));
    expect(rows.map((x) => x.detector)).toEqual(['zero-shot:fast_detect', 'zero-shot:fast_detect']);
  });
});

describe('detect with repeated ids', () => {
  it('keeps every row with its own fields (joined by line), and warns even with --quiet', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-detect-dups-'));
    const model = join(dir, 'model');
    cpSync(join(ROOT, 'models', 'stories260k'), model, { recursive: true });
    writeFileSync(
      join(model, 'zero-shot.json'),
      JSON.stringify({
        signal: 'fast_detect',
        source: 'test',
        human_scores: Array.from({ length: 200 }, (_, i) => -10 + i * 0.05),
      }),
    );
    const input = join(dir, 'in.jsonl');
    const docs = [
      { id: 'a', origin: 'human', text: 'Tom had a big red ball.' },
      { id: 'a', origin: 'SYNTHETIC', text: 'Once upon a time, there was a little girl named Lily.' },
      { id: 'b', text: 'It was the best of times, it was the worst of times.' },
      { id: 'a', origin: 'human', text: 'Sue had a kite.' },
    ];
    writeFileSync(input, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    const r = runCli([
      'detect',
      input,
      '--id-field',
      'id',
      '--model',
      model,
      '--device',
      'cpu',
      '--fpr',
      '0.05',
      '--out',
      join(dir, 'out'),
      '--provenance-field',
      'origin',
      '--quiet',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const rows = readJsonl(join(dir, 'out', 'detections.jsonl'));
    expect(rows.map((x) => [x.id, x.line])).toEqual([
      ['a', 1],
      ['a', 2],
      ['b', 3],
      ['a', 4],
    ]);
    expect(rows.map((x) => x.provenance).filter((_, i) => i !== 2)).toEqual([
      'human-verified',
      'synthetic-known',
      'human-verified',
    ]);
    const warning =
      `2 input rows repeat the id of an earlier row (repeated ids: "a"); the first repeat is ${input} line 2 (id "a"). ` +
      'Every row is still scored and written: tell rows apart by their line, not their id.';
    expect(JSON.parse(r.stdout).warnings).toEqual([warning]);
    expect(r.stderr).toBe(`tailguard: WARNING: ${warning}\n`);
    expect(JSON.parse(readFileSync(join(dir, 'out', 'scores', 'run.json'), 'utf8')).duplicate_ids.count).toBe(2);
  });
});
