import { describe, expect, it } from 'vitest';
import { defaultBatchTokens } from '../../src/score/score-corpus.js';

describe('defaultBatchTokens', () => {
  it('keeps one float32 batch × length × vocabulary tensor within budget, never below the context', () => {
    expect(defaultBatchTokens(true, 512, 512)).toBe(2048);
    expect(defaultBatchTokens(true, 512, 50_257)).toBe(1335); // 256 MiB / (4 B × 50,257)
    expect(defaultBatchTokens(true, 2048, 50_257)).toBe(2048);
    expect(defaultBatchTokens(false, 1024, 32_000)).toBe(8192);
    expect(defaultBatchTokens(false, 1024, 256_000)).toBe(2097);
  });
});
