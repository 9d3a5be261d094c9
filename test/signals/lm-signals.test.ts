import { describe, expect, it } from 'vitest';
import { lmSignals } from '../../src/signals/lm-signals.js';

describe('lmSignals', () => {
  it('derives document signals from per-token sums (hand-checked)', () => {
    // Two tokens with p = 0.5 and 0.25: Σ log p = ln 0.125; mean NLL = 1.5 ln 2; perplexity = 2^1.5.
    const s = lmSignals({
      tokens: 2,
      logp: Math.log(0.125),
      entropy: 2 * Math.log(2),
      logRank: Math.log(1) + Math.log(3),
      variance: 0.5,
    });
    expect(s.tokens).toBe(2);
    expect(s.mean_nll).toBeCloseTo(1.5 * Math.LN2, 12);
    expect(s.perplexity).toBeCloseTo(2 ** 1.5, 12);
    expect(s.mean_entropy).toBeCloseTo(Math.LN2, 12);
    expect(s.mean_log_rank).toBeCloseTo(Math.log(3) / 2, 12);
    // (Σ log p − Σ E[log p]) / sqrt(Σ Var) with E[log p] = −H: (ln 0.125 + 2 ln 2) / sqrt(0.5) = −ln 2 / sqrt(0.5)
    expect(s.fast_detect).toBeCloseTo(-Math.LN2 / Math.sqrt(0.5), 12);
  });

  it('adds binoculars = mean_nll / mean cross-entropy only when the observer sums are given (hand-checked)', () => {
    const sums = { tokens: 4, logp: -6, entropy: 4, logRank: 0, variance: 1 };
    expect(lmSignals(sums)).not.toHaveProperty('binoculars');
    // mean_nll 1.5; (1/n) Σ X_t = 8 / 4 = 2 → 0.75
    expect(lmSignals({ ...sums, crossEntropy: 8 }).binoculars).toBeCloseTo(0.75, 12);
    expect(lmSignals({ ...sums, crossEntropy: 0 }).binoculars).toBe(0);
  });

  it('gives 0 discrepancy when every prediction is certain', () => {
    expect(lmSignals({ tokens: 3, logp: 0, entropy: 0, logRank: 0, variance: 0 }).fast_detect).toBe(0);
  });
});
