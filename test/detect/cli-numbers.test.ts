/**
 * The numbers `tailguard calibrate` and `tailguard detect` write, recomputed here from what they wrote beside them
 * (detector.oof.jsonl, detections.jsonl) by independent code (reference-stats.ts): AUROC over every pair, the
 * threshold, FPR and TPR by counting, their exact Clopper–Pearson intervals by bisection on a binomial CDF summed
 * term by term; each detection's score from the detector's coefficients and the row's raw fields. And the drift of
 * the embedding: rotated embeddings are warned about, a fresh sample of the calibration distribution is not.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DetectorFile } from '../../src/detect/detector.js';
import type { ScoreRow } from '../../src/detect/features.js';
import { fakeRows, writeScoreDir } from './fake-scores.js';
import { bruteAuroc, bruteThreshold, ownClopperPearson } from './reference-stats.js';
import { readJsonl, runCli } from '../helpers/cli.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

type Interval = { lo: number; hi: number };
const expectInterval = (got: Interval, want: Interval) => {
  expect(Math.abs(got.lo - want.lo)).toBeLessThan(1e-9);
  expect(Math.abs(got.hi - want.hi)).toBeLessThan(1e-9);
};

/** Score of a row under a detector.json logistic model, from the row's raw fields (missing optional: its mean). */
function ownScore(
  model: { features: string[]; mean: number[]; scale: number[]; weights: number[]; intercept: number },
  row: ScoreRow,
): number {
  let s = model.intercept;
  model.features.forEach((n, j) => {
    const v = n.startsWith('embedding:')
      ? row.embedding![Number(n.slice(10))]!
      : n === 'log_words'
        ? Math.log1p(row.words)
        : (row[n] as number | null);
    if (v !== null) s += (model.weights[j]! * (v - model.mean[j]!)) / model.scale[j]!;
  });
  return s;
}

/** Machine rows' shift (fakeRow's separation): small enough that neither the AUROC nor the TPR is 1. */
const SEP = 0.35;
const SIGNAL_NAMES = [
  'mean_nll',
  'mean_entropy',
  'mean_log_rank',
  'fast_detect',
  'burstiness',
  'sentence_nll_sd',
  'ttr',
  'mattr',
  'word_entropy',
  'gzip_ratio',
  'log_words',
];

/**
 * The rows with every embedding pulled toward coordinate 2 and renormalised, as real document embeddings share a
 * common direction (machine rows stay shifted along coordinate 0).
 */
function anchored(rows: ScoreRow[]): ScoreRow[] {
  return rows.map((r) => {
    const v = Array.from(r.embedding!);
    v[2] = v[2]! + 2;
    const n = Math.hypot(...v);
    return { ...r, embedding: Float32Array.from(v, (x) => x / n) };
  });
}

interface OofRow {
  id: string;
  label: 'human' | 'synthetic';
  fold: number;
  score: number;
  threshold: number;
  flagged: boolean;
}

describe('calibrate and detect via the CLI: the numbers they write, recomputed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-numbers-'));
  const human = anchored(fakeRows(80, false, 41, SEP));
  const synthetic = anchored(fakeRows(60, true, 42, SEP));
  const detPath = join(dir, 'det.json');
  let cal: ReturnType<typeof runCli>;
  let det: DetectorFile;
  const logisticModel = (f: DetectorFile) => {
    if (f.detector.kind !== 'logistic') throw new Error('expected the logistic detector');
    return f.detector.model as Parameters<typeof ownScore>[0];
  };

  beforeAll(() => {
    writeScoreDir(join(dir, 'h'), human);
    writeScoreDir(join(dir, 's'), synthetic);
    cal = runCli([
      'calibrate',
      '--human',
      join(dir, 'h'),
      '--synthetic',
      join(dir, 's'),
      '--out',
      detPath,
      '--fpr',
      '0.1',
      '--folds',
      '3',
      '--inner-folds',
      '2',
    ]);
    expect(cal.status, cal.stderr).toBe(0);
    det = JSON.parse(readFileSync(detPath, 'utf8'));
  });

  it('calibrate: AUROC, threshold, FPR and TPR and their intervals are what detector.oof.jsonl gives', () => {
    const oof = readJsonl<OofRow>(join(dir, 'det.oof.jsonl'));
    expect(oof.map((r) => r.id)).toEqual([...human, ...synthetic].map((r) => r.id));
    expect(oof.map((r) => r.label)).toEqual([...human.map(() => 'human'), ...synthetic.map(() => 'synthetic')]);
    expect(new Set(oof.map((r) => r.fold))).toEqual(new Set([0, 1, 2]));
    const h = oof.filter((r) => r.label === 'human').map((r) => r.score);
    const s = oof.filter((r) => r.label === 'synthetic').map((r) => r.score);
    const threshold = bruteThreshold(h, 0.1);
    expect(det.detector.threshold).toBe(threshold);
    for (const r of oof) {
      expect(r.threshold).toBe(threshold);
      expect(r.flagged).toBe(r.score > threshold);
    }
    const fp = h.filter((x) => x > threshold).length;
    const tp = s.filter((x) => x > threshold).length;
    expect(fp / 80).toBeLessThanOrEqual(0.1);
    const st = det.calibration.stats;
    const penalty = det.calibration.penalty!;
    expect(Math.abs(st.auroc - bruteAuroc(h, s))).toBeLessThan(1e-12);
    expect(st.threshold_fpr).toBe(fp / 80);
    expect(st.threshold_tpr).toBe(tp / 60);
    expectInterval(st.threshold_fpr_ci!, ownClopperPearson(fp, 80));
    expectInterval(st.threshold_tpr_ci!, ownClopperPearson(tp, 60));
    expect(st).toMatchObject({ n_human: 80, n_synthetic: 60 });
    expect(det.calibration.candidates.logistic).toEqual(st);
    // The report states those numbers.
    const fci = ownClopperPearson(fp, 80);
    const tci = ownClopperPearson(tp, 60);
    expect(cal.stdout).toContain(
      `threshold at target FPR 10.0% (out-of-fold): FPR ${pct(fp / 80)} (${pct(fci.lo)}–${pct(fci.hi)}), TPR ${pct(tp / 60)} (${pct(tci.lo)}–${pct(tci.hi)})`,
    );
    expect(cal.stdout).toContain(
      `L2 penalty ${penalty.l2} (cross-validated; per outer fold ${penalty.fold_l2.join(', ')})`,
    );
    expect(penalty.fold_l2).toHaveLength(3);
    expect(penalty.inner_folds).toBe(2);
  });

  it('calibrate --l2: a fixed penalty, said so; the detector still reads as a /1 file', () => {
    const out = join(dir, 'fixed.json');
    const r = runCli([
      'calibrate',
      '--human',
      join(dir, 'h'),
      '--synthetic',
      join(dir, 's'),
      '--out',
      out,
      '--fpr',
      '0.1',
      '--folds',
      '3',
      '--features',
      'signals',
      '--l2',
      '2.5',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const f = JSON.parse(readFileSync(out, 'utf8')) as DetectorFile;
    expect(f.calibration.penalty).toEqual({ l2: 2.5, curve: [], fold_l2: [], inner_folds: 0 });
    expect(logisticModel(f)).toMatchObject({ l2: 2.5, features: [...SIGNAL_NAMES] });
    expect(f.reference_embedding).toBeUndefined();
    expect(r.stdout).toContain('L2 penalty 2.5 (cross-validated; per outer fold fixed)');

    // The same detector as a tailguard-detector/1 file (no penalty, feature groups or intervals) is still read and
    // applied; an unknown format is refused.
    const { penalty: _p, features: _f, ...calibration } = f.calibration;
    const { threshold_fpr_ci: _a, threshold_tpr_ci: _b, n_human: _c, n_synthetic: _d, ...stats } = calibration.stats;
    writeFileSync(
      join(dir, 'v1.json'),
      JSON.stringify({ ...f, format: 'tailguard-detector/1', calibration: { ...calibration, stats } }),
    );
    const v1 = runCli([
      'detect',
      join(dir, 'h'),
      '--detector',
      join(dir, 'v1.json'),
      '--out',
      join(dir, 'd-v1'),
      '--quiet',
    ]);
    expect(v1.status, v1.stderr).toBe(0);
    const scores = readJsonl<{ score: number }>(join(dir, 'd-v1', 'detections.jsonl')).map((d) => d.score);
    scores.forEach((sc, i) =>
      expect(Math.abs(sc - ownScore(logisticModel(f), human[i]!))).toBeLessThan(1e-9 * (1 + Math.abs(sc))),
    );
    writeFileSync(join(dir, 'v3.json'), JSON.stringify({ ...f, format: 'tailguard-detector/3' }));
    const v3 = runCli(['detect', join(dir, 'h'), '--detector', join(dir, 'v3.json'), '--out', join(dir, 'd-v3')]);
    expect(v3.status).toBe(2);
    expect(v3.stderr).toMatch(
      /is not a tailguard-detector\/1 or tailguard-detector\/2 file \(format: tailguard-detector\/3\)/,
    );
  });

  it('detect --provenance-field: the evaluation on declared rows is what detections.jsonl gives, in summary.json and on stderr', () => {
    // 50 declared human, 30 declared synthetic, 20 undeclared (10 of each).
    const mixH = anchored(fakeRows(60, false, 43, SEP));
    const mixS = anchored(fakeRows(40, true, 44, SEP));
    const rows = [...mixH, ...mixS].map((r, i) => ({ ...r, id: `m${i}`, line: i + 1 }));
    const origin = rows.map((_, i) => (i < 50 ? 'human' : i < 60 ? undefined : i < 90 ? 'synthetic' : undefined));
    writeFileSync(
      join(dir, 'mix.jsonl'),
      rows
        .map((r, i) => JSON.stringify({ id: r.id, text: 'x', ...(origin[i] ? { origin: origin[i] } : {}) }))
        .join('\n') + '\n',
    );
    writeScoreDir(join(dir, 'mix'), rows, { input: join(dir, 'mix.jsonl') });
    const out = join(dir, 'det-mix');
    const r = runCli(['detect', join(dir, 'mix'), '--detector', detPath, '--out', out, '--provenance-field', 'origin']);
    expect(r.status, r.stderr).toBe(0);
    const detections = readJsonl<{ id: string; score: number; verdict: string; provenance: string; detector: string }>(
      join(out, 'detections.jsonl'),
    );
    expect(detections.map((d) => d.id)).toEqual(rows.map((x) => x.id));
    detections.forEach((d, i) => {
      // The score from the coefficients and the row's raw fields and embedding (embeddings.npy read in step).
      expect(Math.abs(d.score - ownScore(logisticModel(det), rows[i]!))).toBeLessThan(1e-9 * (1 + Math.abs(d.score)));
      expect(d.verdict).toBe(d.score > det.detector.threshold ? 'synthetic' : 'human');
      const declared = origin[i] === 'human' ? 'human-verified' : origin[i] === 'synthetic' ? 'synthetic-known' : null;
      expect(d.provenance).toBe(declared ?? (d.verdict === 'synthetic' ? 'synthetic-suspected' : 'human-unverified'));
    });
    const h = detections.filter((d) => d.provenance === 'human-verified');
    const s = detections.filter((d) => d.provenance === 'synthetic-known');
    expect([h.length, s.length]).toEqual([50, 30]);
    const fp = h.filter((d) => d.verdict === 'synthetic').length;
    const tp = s.filter((d) => d.verdict === 'synthetic').length;
    const a = bruteAuroc(
      h.map((d) => d.score),
      s.map((d) => d.score),
    );
    const fci = ownClopperPearson(fp, 50);
    const tci = ownClopperPearson(tp, 30);

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const ev = summary.evaluation;
    expect(ev).toMatchObject({
      n_human: 50,
      n_synthetic: 30,
      fpr: { value: fp / 50, k: fp, n: 50 },
      tpr: { value: tp / 30, k: tp, n: 30 },
    });
    expectInterval(ev.fpr.ci, fci);
    expectInterval(ev.tpr.ci, tci);
    expect(Math.abs(ev.auroc.value - a)).toBeLessThan(1e-12);
    expect(ev.auroc.ci.lo).toBeLessThanOrEqual(ev.auroc.value);
    expect(ev.auroc.ci.hi).toBeGreaterThanOrEqual(ev.auroc.value);
    const { note: _, by_detector: byDetector, ...overall } = ev;
    expect(Object.keys(byDetector)).toEqual(['pooled']);
    expect(byDetector.pooled).toEqual(overall);
    expect(r.stderr).toContain(
      `tailguard: on the 80 rows of declared provenance: FPR ${pct(fp / 50)} (95% CI ${pct(fci.lo)}–${pct(fci.hi)}, ${fp}/50), ` +
        `TPR ${pct(tp / 30)} (95% CI ${pct(tci.lo)}–${pct(tci.hi)}, ${tp}/30), AUROC ${a.toFixed(3)} (${ev.auroc.ci.lo.toFixed(3)}–${ev.auroc.ci.hi.toFixed(3)})\n`,
    );
    // The undeclared rows alone make the flag rate.
    const undeclared = detections.filter(
      (d) => !d.provenance.endsWith('-verified') && !d.provenance.endsWith('-known'),
    );
    expect(summary.flagged_by_detector).toMatchObject({
      flagged: undeclared.filter((d) => d.verdict === 'synthetic').length,
      of: 20,
    });
  });

  it("stores where the calibration embeddings lie: their normalised mean and each row's cosine distance to it", () => {
    const rows = [...human, ...synthetic];
    const sum = new Array<number>(8).fill(0);
    for (const r of rows) r.embedding!.forEach((v, k) => (sum[k]! += v));
    const norm = Math.hypot(...sum);
    const centroid = sum.map((v) => v / norm);
    const ref = det.reference_embedding!;
    ref.centroid.forEach((c, k) => expect(Math.abs(c - centroid[k]!)).toBeLessThan(1e-12));
    const dist = rows.map(
      (r) => 1 - r.embedding!.reduce((a, v, k) => a + v * centroid[k]!, 0) / Math.hypot(...r.embedding!),
    );
    expect(ref.distance.n).toBe(140);
    expect(Math.abs(ref.distance.mean - dist.reduce((a, b) => a + b, 0) / 140)).toBeLessThan(1e-12);
  });

  it("detect warns (even with --quiet) when the embeddings are rotated away from the calibration's, not on a fresh sample", () => {
    const fresh = anchored([...fakeRows(80, false, 45, SEP), ...fakeRows(60, true, 46, SEP)]);
    // A quarter turn in the plane of coordinates 2 and 3 (away from the common direction); every scalar signal stays
    // as it was.
    const rotated = fresh.map((r) => {
      const e = Float32Array.from(r.embedding!);
      e[2] = -r.embedding![3]!;
      e[3] = r.embedding![2]!;
      return { ...r, embedding: e };
    });
    writeScoreDir(join(dir, 'fresh'), fresh);
    writeScoreDir(join(dir, 'rotated'), rotated);

    const a = runCli(['detect', join(dir, 'fresh'), '--detector', detPath, '--out', join(dir, 'd-fresh'), '--quiet']);
    expect(a.status, a.stderr).toBe(0);
    expect(a.stderr).toBe('');
    const sa = JSON.parse(readFileSync(join(dir, 'd-fresh', 'summary.json'), 'utf8'));
    expect(sa.drift.drifting).toEqual([]);
    expect(Math.abs(sa.drift.smd.embedding_distance)).toBeLessThan(0.5);
    expect(sa.warnings).toEqual([]);

    const b = runCli([
      'detect',
      join(dir, 'rotated'),
      '--detector',
      detPath,
      '--out',
      join(dir, 'd-rotated'),
      '--quiet',
    ]);
    expect(b.status, b.stderr).toBe(0);
    const sb = JSON.parse(readFileSync(join(dir, 'd-rotated', 'summary.json'), 'utf8'));
    expect(sb.drift.drifting).toEqual(['embedding_distance']);
    expect(sb.drift.smd.embedding_distance).toBeGreaterThan(0.5);
    expect(b.stderr).toMatch(
      /^tailguard: WARNING: the input \(140 rows\) drifts from what the detector was calibrated on: embedding_distance \(shift \d+\.\d\d sd, PSI \d+\.\d\d\); its FPR was not measured on text like this\n$/,
    );
    expect(sb.warnings).toHaveLength(1);
  });
});
