/** The definitions of every per-document signal, as `tailguard score --help` prints them (docs/signals.md has the same). */
export const SIGNAL_DEFINITIONS = `Signals in scores.jsonl (natural logs; n = scored tokens, each predicted from the document start on):
  tokens                n
  mean_nll              -(1/n) Σ log p(x_t)
  perplexity            exp(mean_nll)
  mean_entropy          (1/n) Σ H_t, H_t = -Σ_v p_t(v) log p_t(v)
  mean_log_rank         (1/n) Σ log rank_t (rank 1 = the most probable token)
  fast_detect           (Σ log p(x_t) + Σ H_t) / sqrt(Σ Var_t[log p]) (Fast-DetectGPT, analytic, same model samples and scores)
  binoculars            mean_nll / ((1/n) Σ X_t), X_t = -Σ_v q_t(v) log p_t(v), q the observer model's distribution (only
                        with --observer-model): Binoculars (Hans et al. 2024), perplexity normalised by how surprising
                        the observer expects this model's predictions to be; lower = more machine-like
How per-token surprise is spread within the document (every scored token once):
  rank_top1, rank_top10, rank_top100, rank_top1000
                        share of tokens whose rank is ≤ 1, 10, 100, 1000 (GLTR's buckets, Gehrmann et al. 2019, cumulative)
  entropy_q10, entropy_q50, entropy_q90
                        10th, 50th, 90th percentiles of H_t (numpy's linear rule)
  nll_sd, entropy_sd    population sds of -log p(x_t) and of H_t over the tokens
  surprise_sd           population sd of -log p(x_t) - H_t, the per-token term of Fast-DetectGPT's numerator
Text signals (no model; words = lowercased runs of letters/digits with inner apostrophes; sentences end at . ! ? …
(optionally followed by closing quotes/brackets) before whitespace, or at a blank line; "Mr. Smith" splits):
  chars                 Unicode code points
  words, sentences      counts
  sentence_length_mean  words per sentence
  burstiness            sd / mean of the sentence lengths in words (population sd; 0 below 2 sentences)
  ttr                   distinct words / words
  mattr                 mean type-token ratio over every window of 50 consecutive words (= ttr below 50 words)
  word_entropy          -Σ p(w) log2 p(w) over the document's word frequencies, in bits
  gzip_ratio            gzip -9 bytes / UTF-8 bytes (includes gzip's ~18-byte header: short texts can exceed 1)
Signals placed on the text (null when the tokenizer's pieces cannot be mapped back onto the text):
  sentence_nll_sd       population sd over sentences of the mean NLL of the tokens ending in each (0 below 2 sentences)
  spans (--spans N)     windows of N tokens: [{start, end (UTF-16 offsets), tokens, mean_nll, fast_detect}]`;
