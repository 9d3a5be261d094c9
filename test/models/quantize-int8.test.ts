/** scripts/quantize-int8.ts: hand-checked quantization, and the int8 stories260k graph against the fp32 reference. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { quantizeInt8, quantizeSymmetric } from '../../scripts/quantize-int8.js';
import { findFinalHiddenState } from '../../src/lm/onnx/augment.js';
import { DataType, decodeModel, encodeModel } from '../../src/onnx/proto.js';
import { BOS_ID, Llama2cReference, Llama2cTokenizer } from '../reference/llama2c.js';
import { logSoftmax64, runBatch, type DecoderShape } from './decoder-run.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODEL = join(ROOT, 'models/stories260k');
const SHAPE: DecoderShape = { nLayers: 5, kvHeads: 4, headDim: 8, vocab: 512 };

describe('quantizeSymmetric', () => {
  it('per column: scale = max |w| / 63 (7 bits), values rounded to the nearest step', () => {
    // [[1, -0.5], [-2, 0.25]]: column maxima 2 and 0.5
    const { q, scale } = quantizeSymmetric(Float32Array.from([1, -0.5, -2, 0.25]), 2, 2, true);
    expect(Array.from(scale)).toEqual([Math.fround(2 / 63), Math.fround(0.5 / 63)]);
    // 1/(2/63) = 31.5 exactly, but the float32 scale rounds 2/63 up, so the quotient is just below 31.5 -> 31
    expect(Array.from(q)).toEqual([31, -63, -63, 31]);
  });
  it('per row, and an all-zero row keeps scale 1', () => {
    const { q, scale } = quantizeSymmetric(Float32Array.from([0, 0, 3, -1.5]), 2, 2, false);
    expect(Array.from(scale)).toEqual([1, Math.fround(3 / 63)]);
    expect(Array.from(q)).toEqual([0, 0, 63, -31]); // -1.5/fround(3/63) is just above -31.5
  });
});

describe('int8 stories260k', () => {
  const model = quantizeInt8(decodeModel(readFileSync(join(MODEL, 'onnx', 'model.onnx'))));
  const bytes = encodeModel(model.model);
  let session: ort.InferenceSession;
  beforeAll(async () => {
    session = await ort.InferenceSession.create(bytes);
  });

  it('replaces every projection weight, stores the tied table once in int8, keeps the interface', () => {
    expect(model.quantized).toHaveLength(5 * 7 + 1);
    const g = model.model.graph!;
    expect(g.initializer!.filter((t) => t.dataType === DataType.FLOAT && t.dims!.length === 2)).toHaveLength(0);
    const embed = g.initializer!.find((t) => t.name === 'model.embed_tokens.weight_int8')!;
    expect(embed.dataType).toBe(DataType.INT8);
    expect(embed.dims!.map(Number)).toEqual([512, 64]);
    expect(bytes.length).toBeLessThan(readFileSync(join(MODEL, 'onnx', 'model.onnx')).length / 3);
    expect(session.outputNames[0]).toBe('logits');
    // tailguard's augmentation still finds the hidden state feeding the (now quantized) classifier.
    expect(findFinalHiddenState(g, 'logits', 'q8')).toMatch(/./);
  });

  it('per-token log-probs stay close to the float64 reference; perplexity within 2%', async () => {
    const ref = Llama2cReference.fromFile(join(ROOT, 'test/fixtures/stories260k/stories260K.bin'));
    const tok = Llama2cTokenizer.fromFile(join(ROOT, 'test/fixtures/stories260k/tok512.bin'));
    const texts = [
      'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.',
      'Tom had a big red ball. He threw it to his dog, and the dog ran after it very fast.',
    ];
    for (const text of texts) {
      const s = [BOS_ID, ...tok.encode(text)];
      const run = await runBatch(session, SHAPE, [s], { padId: 0 });
      const want = ref.forwardLogits(s);
      let nllQ = 0;
      let nllRef = 0;
      for (let t = 0; t + 1 < s.length; t++) {
        const lq = logSoftmax64(run.logits[0]![t]!)[s[t + 1]!]!;
        const lr = logSoftmax64(want[t]!)[s[t + 1]!]!;
        expect(Math.abs(lq - lr)).toBeLessThan(0.5); // int8 noise on single tokens of a 260k-parameter model
        nllQ -= lq;
        nllRef -= lr;
      }
      const n = s.length - 1;
      expect(Math.abs(Math.exp(nllQ / n) / Math.exp(nllRef / n) - 1)).toBeLessThan(0.02);
    }
  });
});
