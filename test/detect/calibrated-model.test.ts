/**
 * The calibrated logistic detector on signals, token-distribution signals and the embedding (src/detect/detector.ts):
 * its features in their order, its score recomputed from a row's raw fields, each feature's exact effect on the
 * score, the penalised gradient at the fitted model by an independent computation, and the out-of-fold scores as the
 * nested cross-validation gives them. A wrong coefficient, a dropped or reordered feature, or a misread embedding
 * fails here.
 */
import { describe, expect, it } from 'vitest';
import { calibrate, detectorScore } from '../../src/detect/detector.js';
import type { ScoreRow } from '../../src/detect/features.js';
import { nestedOutOfFold } from '../../src/detect/logistic.js';
import { fakeRows } from './fake-scores.js';
import { bruteThreshold, ownStandardisation, penalisedGradient } from './reference-stats.js';

// Written out, not imported: a reordered or dropped feature must fail.
const SIGNALS = [
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
const TOKENS = [
  'rank_top1',
  'rank_top10',
  'rank_top100',
  'rank_top1000',
  'entropy_q10',
  'entropy_q50',
  'entropy_q90',
  'nll_sd',
  'entropy_sd',
  'surprise_sd',
];
const EMBEDDING = Array.from({ length: 8 }, (_, i) => `embedding:${i}`);
const NAMES = [...SIGNALS, ...TOKENS, ...EMBEDDING];

/** A row's raw value of a feature, read here without src/detect/features.ts (NaN: sentence_nll_sd missing). */
function raw(row: ScoreRow, name: string): number {
  if (name.startsWith('embedding:')) return row.embedding![Number(name.slice(10))]!;
  if (name === 'log_words') return Math.log1p(row.words);
  const v = row[name];
  return v === null ? NaN : (v as number);
}

describe('calibrate() with features signals, tokens, embedding', () => {
  const human = fakeRows(60, false, 31, 0.5);
  const synthetic = fakeRows(60, true, 32, 0.5);
  const rows = [...human, ...synthetic];
  const labels = [...human.map(() => 0 as const), ...synthetic.map(() => 1 as const)];
  const grid = [10, 1, 0.1];
  const { file, outOfFold } = calibrate(human, synthetic, {
    targetFpr: 0.1,
    model: 'fake',
    features: ['signals', 'tokens', 'embedding'],
    folds: 3,
    innerFolds: 2,
    l2Grid: grid,
  });
  const spec = file.detector;
  if (spec.kind !== 'logistic') throw new Error('expected the logistic detector');
  const model = spec.model;
  // The design matrix, built here: a missing sentence_nll_sd takes the mean of the rows that have it.
  const X = (() => {
    const M = rows.map((r) => NAMES.map((n) => raw(r, n)));
    return M.map((x) =>
      x.map((v, j) => {
        if (!Number.isNaN(v)) return v;
        const have = M.map((m) => m[j]!).filter((u) => !Number.isNaN(u));
        return have.reduce((a, b) => a + b, 0) / have.length;
      }),
    );
  })();

  it('writes the 11 signals, the 10 token signals, then embedding:0..7, in that order', () => {
    expect(model.features).toEqual(NAMES);
    expect(model.weights).toHaveLength(29);
    expect(file.calibration.features).toEqual({ groups: ['signals', 'tokens', 'embedding'], count: 29 });
    // Every feature carries weight (so dropping any one changes scores).
    for (const w of model.weights) expect(w).not.toBe(0);
    expect(rows.some((r) => r.sentence_nll_sd === null)).toBe(true);
  });

  it("standardises with the columns' own means and population sds", () => {
    const own = ownStandardisation(X);
    model.mean.forEach((m, j) => expect(Math.abs(m - own.mean[j]!)).toBeLessThan(1e-12 * (1 + Math.abs(m))));
    model.scale.forEach((s, j) => expect(Math.abs(s - own.sd[j]!)).toBeLessThan(1e-12 * s));
  });

  it('scores a row as intercept + Σ w_j (x_j − mean_j) / scale_j, from its raw fields and embedding', () => {
    for (const row of [...human.slice(0, 15), ...synthetic.slice(0, 15)]) {
      let want = model.intercept;
      let size = Math.abs(model.intercept);
      NAMES.forEach((n, j) => {
        const x = raw(row, n);
        const term = Number.isNaN(x) ? 0 : (model.weights[j]! * (x - model.mean[j]!)) / model.scale[j]!;
        want += term;
        size += Math.abs(term);
      });
      expect(Math.abs(detectorScore(spec, row) - want)).toBeLessThan(1e-12 * (1 + size));
    }
  });

  it('moving one feature by Δ moves the score by exactly w_j Δ / scale_j, for every feature', () => {
    const row = synthetic.find((r) => r.sentence_nll_sd !== null)!;
    const base = detectorScore(spec, row);
    NAMES.forEach((n, j) => {
      let moved: ScoreRow;
      let delta: number;
      if (n.startsWith('embedding:')) {
        const e = Float32Array.from(row.embedding!);
        const k = Number(n.slice(10));
        e[k] = e[k]! + 0.25;
        delta = e[k]! - row.embedding![k]!; // the float32 step actually taken
        moved = { ...row, embedding: e };
      } else if (n === 'log_words') {
        moved = { ...row, words: row.words + 50 };
        delta = Math.log1p(row.words + 50) - Math.log1p(row.words);
      } else {
        delta = 0.1 * model.scale[j]! + 0.01;
        moved = { ...row, [n]: (row[n] as number) + delta };
      }
      const change = detectorScore(spec, moved) - base;
      const want = (model.weights[j]! * delta) / model.scale[j]!;
      expect(Math.abs(change - want), n).toBeLessThan(1e-10 * (1 + Math.abs(base)));
      expect(Math.abs(want), n).toBeGreaterThan(1e-6);
    });
  });

  it("is the average of the outer folds' penalised optima, each checked by the independent gradient", () => {
    const l2 = file.calibration.penalty!.l2;
    expect(model.l2).toBe(l2);
    expect(model.converged).toBe(true);
    const nested = nestedOutOfFold(X, labels, { grid, folds: 3, innerFolds: 2, seed: 1 });
    expect(nested.foldModels).toHaveLength(3);
    nested.foldModels.forEach((m, f) => {
      const train = labels.flatMap((_, i) => (nested.fold[i] === f ? [] : [i]));
      const grad = penalisedGradient(
        train.map((i) => X[i]!),
        train.map((i) => labels[i]!),
        m.intercept,
        m.weights,
        nested.foldL2[f]!,
      );
      for (const g of grad) expect(Math.abs(g)).toBeLessThan(1e-8);
    });
    // Deployed on every row's standardisation, scoring each row with the mean of the fold models' logits.
    const own = ownStandardisation(X);
    expect(model.mean.map((m, j) => Math.abs(m - own.mean[j]!)).every((d) => d < 1e-12)).toBe(true);
    for (const row of rows) {
      // A missing signal scores at the deployed model's mean (its term is 0 there).
      const x = NAMES.map((n, j) => (Number.isNaN(raw(row, n)) ? model.mean[j]! : raw(row, n)));
      const logits = nested.foldModels.map((m) =>
        x.reduce(
          (a, v, j) => a + (Number.isNaN(v) ? 0 : (m.weights[j]! * (v - m.mean[j]!)) / m.scale[j]!),
          m.intercept,
        ),
      );
      const want = logits.reduce((a, b) => a + b, 0) / logits.length;
      expect(Math.abs(detectorScore(spec, row) - want)).toBeLessThan(1e-9 * (1 + Math.abs(want)));
    }
  });

  it("chose the penalty at its curve's minimum, and scored out of fold by the nested cross-validation", () => {
    const p = file.calibration.penalty!;
    expect(p.curve.map((c) => c.l2)).toEqual([10, 1, 0.1]);
    expect(p.l2).toBe(p.curve.reduce((a, c) => (c.log_loss < a.log_loss ? c : a)).l2);
    expect(p.inner_folds).toBe(2);
    const nested = nestedOutOfFold(X, labels, { grid, folds: 3, innerFolds: 2, seed: 1 });
    expect(p.fold_l2).toEqual(nested.foldL2);
    expect(Array.from(outOfFold.fold)).toEqual(Array.from(nested.fold));
    outOfFold.scores.forEach((s, i) =>
      expect(Math.abs(s - nested.oofScores[i]!)).toBeLessThan(1e-9 * (1 + Math.abs(s))),
    );
    const threshold = bruteThreshold(Array.from(outOfFold.scores.subarray(0, 60)), 0.1);
    expect(spec.threshold).toBe(threshold);
    expect(Array.from(outOfFold.thresholds)).toEqual(new Array(120).fill(threshold));
    expect(outOfFold.ids).toEqual(rows.map((r) => r.id));
    expect(outOfFold.labels).toEqual(labels);
  });

  it('compares with the logistic model on the scalar signals alone whenever its features are not exactly those', () => {
    // tokens + binoculars: 11 features, as many as the signals, and none of them.
    const withBinoculars = (rs: ScoreRow[]) =>
      rs.map((r, i) => ({ ...r, binoculars: 0.8 + 0.05 * Math.sin(i) - (r.id.startsWith('s') ? 0.03 : 0) }));
    const [h, s] = [withBinoculars(human), withBinoculars(synthetic)];
    const small = { targetFpr: 0.1, model: 'fake', folds: 3, innerFolds: 2, l2Grid: [1] };
    const tb = calibrate(h, s, { ...small, features: ['tokens', 'binoculars'] }).file;
    expect(tb.detector.kind === 'logistic' && tb.detector.model.features).toEqual([...TOKENS, 'binoculars']);
    expect(Object.keys(tb.calibration.candidates)).toContain('logistic_signals');
    expect(Object.keys(calibrate(h, s, { ...small, features: ['signals'] }).file.calibration.candidates)).not.toContain(
      'logistic_signals',
    );
  });
});
