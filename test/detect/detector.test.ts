/** Detector fitting and application (src/detect/detector.ts) on score rows whose signal distributions are known. */
import { describe, expect, it } from 'vitest';
import {
  applyDetector,
  calibrateDetector,
  detectorScore,
  fitEnsemble,
  zeroShotDetector,
} from '../../src/detect/detector.js';
import { MissingSignalError, type ScoreRow } from '../../src/detect/features.js';
import { fakeRows } from './fake-scores.js';

const human = fakeRows(400, false, 11);
const synthetic = fakeRows(300, true, 12);

describe('calibrateDetector', () => {
  const det = calibrateDetector(human, synthetic, { targetFpr: 0.01, model: 'fake' });

  it('fits a logistic model whose out-of-fold threshold keeps the human FPR at the target', () => {
    expect(det.detector.kind).toBe('logistic');
    expect(det.calibration.stats.threshold_fpr).toBeLessThanOrEqual(0.01);
    expect(det.calibration.stats.auroc).toBeGreaterThan(0.97);
    expect(det.calibration.stats.auroc_ci.lo).toBeLessThan(det.calibration.stats.auroc);
    // Combining signals beats each alone when every signal carries independent noise.
    for (const k of ['fast_detect', 'mean_nll', 'mean_log_rank', 'mean_entropy']) {
      expect(det.calibration.candidates[k]!.auroc).toBeLessThan(det.calibration.stats.auroc);
    }
  });

  it('applies as score > threshold, with p_synthetic = sigmoid(score)', () => {
    for (const row of [...human.slice(0, 20), ...synthetic.slice(0, 20)]) {
      const v = applyDetector(det.detector, row);
      expect(v.verdict).toBe(v.score > det.detector.threshold ? 'synthetic' : 'human');
      expect(v.p_synthetic).toBeCloseTo(1 / (1 + Math.exp(-v.score)), 12);
    }
  });

  it('refuses a 1% FPR from fewer than 299 human documents, and says why', () => {
    expect(() => calibrateDetector(human.slice(0, 298), synthetic, { targetFpr: 0.01, model: 'fake' })).toThrow(
      /298 human documents cannot certify a 1% false-positive rate: at least 299/,
    );
    expect(() => calibrateDetector(human.slice(0, 100), synthetic, { targetFpr: 0.05, model: 'fake' })).not.toThrow();
  });

  it('reports per-domain FPR and TPR at the threshold', () => {
    const d = calibrateDetector(human, synthetic, {
      targetFpr: 0.05,
      model: 'fake',
      humanDomains: human.map((_, i) => (i % 2 ? 'news' : 'fiction')),
      syntheticDomains: synthetic.map(() => 'news'),
    });
    expect(Object.keys(d.calibration.per_domain!)).toEqual(['fiction', 'news']);
    expect(d.calibration.per_domain!.fiction).toMatchObject({ n_human: 200, n_synthetic: 0, tpr: null });
    expect(d.calibration.per_domain!.news!.n_synthetic).toBe(300);
  });

  it('says which field is missing on a row from an older score run', () => {
    const old = { ...human[0]! } as Partial<ScoreRow>;
    delete old.mattr;
    expect(() => detectorScore(det.detector, old as ScoreRow)).toThrow(MissingSignalError);
    expect(() => detectorScore(det.detector, old as ScoreRow)).toThrow(/row h0: no numeric 'mattr'/);
  });
});

describe('the 2-of-3 ensemble', () => {
  it('fires on at least two of low perplexity, low burstiness, low MATTR; human FPR within the target', () => {
    const e = fitEnsemble(human, synthetic, 0.05);
    const fired = (r: ScoreRow) => detectorScore(e, r);
    const fp = human.filter((r) => fired(r) >= 2).length / human.length;
    expect(fp).toBeLessThanOrEqual(0.05);
    const row = {
      ...human[0]!,
      mean_nll: e.thresholds.mean_nll - 1,
      burstiness: e.thresholds.burstiness - 1,
      mattr: e.thresholds.mattr + 1,
    };
    expect(applyDetector(e, row)).toMatchObject({ score: 2, verdict: 'synthetic' });
    expect(applyDetector(e, { ...row, burstiness: e.thresholds.burstiness + 1 })).toMatchObject({
      score: 1,
      verdict: 'human',
    });
  });
});

describe('zero-shot detector', () => {
  it('threshold at the human FPR; p_synthetic = share of human reference scores below', () => {
    const ref = Array.from({ length: 100 }, (_, i) => i); // oriented fast_detect scores 0..99
    const z = zeroShotDetector('fast_detect', ref, 0.05);
    expect(z.threshold).toBe(94); // 95..99 are above: 5%
    const row = { ...human[0]!, fast_detect: 50.5 };
    expect(applyDetector(z, row)).toEqual({ score: 50.5, p_synthetic: 0.51, verdict: 'human' });
    expect(applyDetector(z, { ...row, fast_detect: 120 }).verdict).toBe('synthetic');
  });
});
