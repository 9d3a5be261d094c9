/** Float64 helpers shared by the independent references and the tests that use them. */

/** Numerically stable log-softmax (log-sum-exp with the max subtracted). */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i]! - max);
  const lse = max + Math.log(s);
  return Float64Array.from(logits, (v) => v - lse);
}

/** -log p(ids[t+1]) for t = 0..n-2, from logits at every position. */
export function nllFromLogits(logits: ArrayLike<number>[], ids: number[]): number[] {
  const out: number[] = [];
  for (let t = 0; t + 1 < ids.length; t++) out.push(-logSoftmax(logits[t]!)[ids[t + 1]!]!);
  return out;
}
