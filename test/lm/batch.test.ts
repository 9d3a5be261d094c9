import { describe, expect, it } from 'vitest';
import { assertFeedable, bucketByLength, buildFeeds, type WindowJob } from '../../src/lm/batch.js';
import type { ModelSpec } from '../../src/lm/model-config.js';

const spec: ModelSpec = {
  modelType: 'llama',
  hiddenSize: 4,
  contextLength: 8,
  numLayers: 2,
  numKeyValueHeads: 2,
  headDim: 2,
  vocabSize: 10,
  bosTokenId: 1,
  eosTokenId: 2,
};
const job = (doc: number, len: number): WindowJob => ({
  doc,
  ids: Int32Array.from({ length: len }, (_, i) => i + 1),
  window: { start: 0, end: len, scoreFrom: 1 },
});

describe('bucketByLength', () => {
  it('groups by length, longest first, within the row and token limits', () => {
    const jobs = [job(0, 3), job(1, 8), job(2, 5), job(3, 7), job(4, 2)];
    const batches = bucketByLength(jobs, { maxBatch: 2, maxTokens: 14 });
    expect(batches.map((b) => b.map((j) => j.doc))).toEqual([[1], [3, 2], [0, 4]]);
    for (const b of batches) {
      const width = Math.max(...b.map((j) => j.window.end));
      expect(b.length * width).toBeLessThanOrEqual(14);
    }
  });
});

describe('buildFeeds', () => {
  it('right-pads, masks, shifts targets and marks embedding positions', () => {
    const a: WindowJob = { doc: 0, ids: Int32Array.from([1, 5, 6, 7]), window: { start: 0, end: 4, scoreFrom: 1 } };
    const b: WindowJob = {
      doc: 1,
      ids: Int32Array.from([1, 9, 8, 7, 6, 5]),
      window: { start: 2, end: 6, scoreFrom: 5 },
    };
    const c: WindowJob = { doc: 2, ids: Int32Array.from([1, 3]), window: { start: 0, end: 2, scoreFrom: 1 } };
    const names = [
      'input_ids',
      'attention_mask',
      'position_ids',
      'past_key_values.0.key',
      'tg_targets',
      'tg_embed_mask',
    ].map((name) => ({ name }));
    const { feeds, seqLen } = buildFeeds([a, b, c], names, spec, 0);
    expect(seqLen).toBe(4);
    expect(Array.from(feeds.input_ids!.data as BigInt64Array, Number)).toEqual([1, 5, 6, 7, 8, 7, 6, 5, 1, 3, 0, 0]);
    expect(Array.from(feeds.attention_mask!.data as BigInt64Array, Number)).toEqual([
      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0,
    ]);
    expect(Array.from(feeds.position_ids!.data as BigInt64Array, Number)).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
    expect(Array.from(feeds.tg_targets!.data as BigInt64Array, Number)).toEqual([5, 6, 7, 0, 7, 6, 5, 0, 3, 0, 0, 0]);
    expect(Array.from(feeds.tg_embed_mask!.data as Float32Array)).toEqual([0, 1, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0]);
    expect(feeds['past_key_values.0.key']!.dims).toEqual([3, 2, 0, 2]);
  });

  it("feeds an empty KV cache of the graph's own type and head sizes", () => {
    const inputs = [
      { name: 'input_ids' },
      { name: 'past_key_values.0.value', type: 'float16', shape: ['batch', 5, 'past', 7] },
    ];
    const { feeds } = buildFeeds([job(0, 3)], inputs, spec, 0);
    expect(feeds['past_key_values.0.value']!.type).toBe('float16');
    expect(feeds['past_key_values.0.value']!.dims).toEqual([1, 5, 0, 7]);
  });

  it('refuses inputs it does not know how to feed', () => {
    expect(() => buildFeeds([job(0, 3)], [{ name: 'pixel_values' }], spec, 0)).toThrow(/pixel_values/);
  });
});

describe('assertFeedable', () => {
  it('accepts a stock decoder export and names the inputs it cannot feed', () => {
    const stock = [
      'input_ids',
      'attention_mask',
      'position_ids',
      'past_key_values.0.key',
      'past_key_values.0.value',
      'tg_targets',
      'tg_embed_mask',
    ];
    expect(() =>
      assertFeedable(
        stock.map((name) => ({ name })),
        'm',
      ),
    ).not.toThrow();
    expect(() =>
      assertFeedable(
        [...stock, 'token_type_ids', 'pixel_values'].map((name) => ({ name })),
        'm',
      ),
    ).toThrow(/token_type_ids, pixel_values/);
  });
});
