/**
 * Sliding windows over a document longer than the model's context. Positions are indices into
 * ids = [start token, ...document tokens]; the token at position t is scored from the output at t-1.
 * Every token 1..n-1 is scored exactly once; after the first window, each window is a full `context`
 * long and scores only its last `stride` (or fewer) tokens, so every scored token sees at least
 * context - stride tokens of left context.
 */
export interface Window {
  /** First position fed to the model. */
  start: number;
  /** One past the last position fed. */
  end: number;
  /** First position whose token is scored in this window (tokens scoreFrom..end-1 are scored). */
  scoreFrom: number;
}

export function planWindows(length: number, context: number, stride: number): Window[] {
  if (context < 2) throw new RangeError(`context must be at least 2 (got ${context})`);
  if (stride < 1 || stride > context - 1) throw new RangeError(`stride must be in 1..${context - 1} (got ${stride})`);
  if (length < 2) return [];
  let end = Math.min(context, length);
  const windows: Window[] = [{ start: 0, end, scoreFrom: 1 }];
  while (end < length) {
    const next = Math.min(end + stride, length);
    windows.push({ start: next - context, end: next, scoreFrom: end });
    end = next;
  }
  return windows;
}
