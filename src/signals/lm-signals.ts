/**
 * Per-document signals from the per-token sums the scoring graph produces. All logarithms natural.
 *
 *   mean_nll      = -(1/n) Σ log p(x_t)
 *   perplexity    = exp(mean_nll)
 *   mean_entropy  = (1/n) Σ H_t,  H_t = -Σ_v p_t(v) log p_t(v)
 *   mean_log_rank = (1/n) Σ log rank_t   (rank 1 = the most probable token)
 *   fast_detect   = (Σ log p(x_t) - Σ E_t[log p]) / sqrt(Σ Var_t[log p])
 *                   Fast-DetectGPT's analytic sampling discrepancy, the same model sampling and scoring
 *                   (Bao et al. 2024); E_t[log p] = -H_t.
 *   binoculars    = mean_nll / ((1/n) Σ X_t),  X_t = -Σ_v q_t(v) log p_t(v), q the observer model's distribution
 *                   (only with an observer): Binoculars (Hans et al. 2024), perplexity normalised by how surprising
 *                   the observer expects this model's predictions to be; lower = more machine-like.
 */
export interface LmSignals {
  tokens: number;
  mean_nll: number;
  perplexity: number;
  mean_entropy: number;
  mean_log_rank: number;
  fast_detect: number;
  binoculars?: number;
}

export interface TokenSums {
  tokens: number;
  logp: number;
  entropy: number;
  logRank: number;
  variance: number;
  /** Σ X_t with an observer model. */
  crossEntropy?: number;
}

export function lmSignals(s: TokenSums): LmSignals {
  const n = s.tokens;
  const meanNll = -s.logp / n;
  return {
    tokens: n,
    mean_nll: meanNll,
    perplexity: Math.exp(meanNll),
    mean_entropy: s.entropy / n,
    mean_log_rank: s.logRank / n,
    // A document whose every prediction is certain has zero variance: no discrepancy to measure.
    fast_detect: s.variance > 0 ? (s.logp + s.entropy) / Math.sqrt(s.variance) : 0,
    ...(s.crossEntropy === undefined ? {} : { binoculars: s.crossEntropy > 0 ? -s.logp / s.crossEntropy : 0 }),
  };
}
