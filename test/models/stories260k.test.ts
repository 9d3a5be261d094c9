/**
 * models/stories260k (scripts/convert-llama2c.ts output) against the independent float64 llama2.c reference:
 * logits, batching with padding, the KV-cache interface, the graph layout the loader relies on, and the README's
 * known perplexity. Also checks that the committed directory is exactly what the converter produces.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertLlama2c } from '../../scripts/convert-llama2c.js';
import { verifyRopeTheta } from '../../scripts/lib/llama-onnx.js';
import { parseLlama2cCheckpoint } from '../../scripts/lib/llama2c-format.js';
import { decodeSafetensors } from '../../scripts/lib/safetensors.js';
import { decodeModel, DataType } from '../../src/onnx/proto.js';
import { BOS_ID, Llama2cReference, Llama2cTokenizer } from '../reference/llama2c.js';
import {
  allFinite,
  type DecoderShape,
  emptyPast,
  logSoftmax64,
  maxLogProbDiff,
  runBatch,
  runWithPast,
} from './decoder-run.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODEL = join(ROOT, 'models/stories260k');
const BIN = join(ROOT, 'test/fixtures/stories260k/stories260K.bin');
const TOK = join(ROOT, 'test/fixtures/stories260k/tok512.bin');
const TOL = 1e-4;
const SHAPE: DecoderShape = { nLayers: 5, kvHeads: 4, headDim: 8, vocab: 512 };

const ref = Llama2cReference.fromFile(BIN);
const tok = Llama2cTokenizer.fromFile(TOK);
const LILY =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.';
const TEXTS = [
  LILY,
  'Tom had a big red ball. He liked to play with it every day.',
  'The quarterly report showed a decline in operating margins.',
  'Hi!',
];
const seqs = TEXTS.map((t) => [BOS_ID, ...tok.encode(t)]);

let session: ort.InferenceSession;
beforeAll(async () => {
  session = await ort.InferenceSession.create(join(MODEL, 'onnx', 'model.onnx'));
});

describe('stories260k ONNX vs llama2.c float64 reference', () => {
  it('has the optimum decoder-with-past interface', () => {
    const pkv = Array.from({ length: 5 }, (_, i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]).flat();
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'position_ids', ...pkv]);
    expect(session.outputNames).toEqual([
      'logits',
      ...pkv.map((n) => n.replace('past_key_values.', 'present.')),
      'last_hidden_state',
    ]);
  });

  it("last_hidden_state = the reference's final-RMSNorm hidden states (within 1e-4)", async () => {
    const s = seqs[0]!;
    const big = (v: number[]) => BigInt64Array.from(v.map((x) => BigInt(x)));
    const out = await session.run({
      input_ids: new ort.Tensor('int64', big(s), [1, s.length]),
      attention_mask: new ort.Tensor('int64', big(s.map(() => 1)), [1, s.length]),
      position_ids: new ort.Tensor('int64', big(s.map((_, i) => i)), [1, s.length]),
      ...emptyPast(SHAPE, 1),
    });
    const h = out.last_hidden_state!;
    expect(h.dims).toEqual([1, s.length, 64]);
    const want = ref.finalHidden(s);
    const data = h.data as Float32Array;
    let worst = 0;
    want.forEach((row, t) =>
      row.forEach((v, i) => {
        worst = Math.max(worst, Math.abs(v - data[t * 64 + i]!));
      }),
    );
    expect(worst).toBeLessThan(1e-4);
  });

  it('single sequences: log-probs within 1e-4 of the reference', async () => {
    for (const s of seqs) {
      const run = await runBatch(session, SHAPE, [s], { padId: 0 });
      expect(run.dims).toEqual([1, s.length, 512]);
      const want = ref.forwardLogits(s);
      for (let t = 0; t < s.length; t++) expect(maxLogProbDiff(run.logits[0]![t]!, want[t]!)).toBeLessThan(TOL);
    }
  });

  it('a right-padded batch equals the unbatched runs and the reference', async () => {
    const run = await runBatch(session, SHAPE, seqs, { padId: 0, side: 'right' });
    expect(allFinite(run.logits)).toBe(true);
    expect(run.present['present.0.key']!.dims).toEqual([seqs.length, 4, Math.max(...seqs.map((s) => s.length)), 8]);
    for (const [b, s] of seqs.entries()) {
      const single = await runBatch(session, SHAPE, [s], { padId: 0 });
      const want = ref.forwardLogits(s);
      for (let t = 0; t < s.length; t++) {
        expect(maxLogProbDiff(run.logits[b]![t]!, single.logits[0]![t]!)).toBeLessThan(1e-5);
        expect(maxLogProbDiff(run.logits[b]![t]!, want[t]!)).toBeLessThan(TOL);
      }
    }
  });

  it('a left-padded batch (fully masked query rows) stays NaN-free and matches on real tokens', async () => {
    const run = await runBatch(session, SHAPE, seqs, { padId: 0, side: 'left' });
    expect(allFinite(run.logits)).toBe(true);
    const S = Math.max(...seqs.map((s) => s.length));
    for (const [b, s] of seqs.entries()) {
      const want = ref.forwardLogits(s);
      for (let t = 0; t < s.length; t++)
        expect(maxLogProbDiff(run.logits[b]![S - s.length + t]!, want[t]!)).toBeLessThan(TOL);
    }
  });

  it('past key/values: a continuation fed present.* gives the same logits as one pass', async () => {
    const s = seqs[0]!;
    const want = ref.forwardLogits(s);
    for (const cut of [1, 7, s.length - 1]) {
      const logits = await runWithPast(session, SHAPE, s, cut);
      for (let t = 0; t < s.length; t++) expect(maxLogProbDiff(logits[t]!, want[t]!)).toBeLessThan(TOL);
    }
  });

  it("the README's known value: perplexity about 1.22 on the Lily sentence", async () => {
    const ids = seqs[0]!;
    expect(ids[0]).toBe(BOS_ID);
    const ppl = ref.perplexity(ids);
    expect(ppl).toBeGreaterThan(1.2);
    expect(ppl).toBeLessThan(1.24);
    // Same number from the ONNX logits.
    const run = await runBatch(session, SHAPE, [ids], { padId: 0 });
    let nll = 0;
    for (let t = 0; t + 1 < ids.length; t++) nll -= logSoftmax64(run.logits[0]![t]!)[ids[t + 1]!]!;
    expect(Math.abs(Math.exp(nll / (ids.length - 1)) - ppl)).toBeLessThan(1e-4);
    // Adult prose is far less predictable for it.
    expect(ref.perplexity(seqs[2]!)).toBeGreaterThan(10);
  });
});

describe('stories260k graph layout and converter', () => {
  it('logits = MatMul(final-norm hidden [B,S,64], Transpose(tied embedding [512,64]))', () => {
    const model = decodeModel(readFileSync(join(MODEL, 'onnx', 'model.onnx')));
    const g = model.graph!;
    expect(Number(model.irVersion)).toBe(8);
    const producer = g.node!.find((n) => n.output!.includes('logits'))!;
    expect(producer.opType).toBe('MatMul');
    const transpose = g.node!.find((n) => n.output!.includes(producer.input![1]!))!;
    expect(transpose.opType).toBe('Transpose');
    expect(transpose.input).toEqual(['model.embed_tokens.weight']);
    expect(g.initializer!.some((t) => t.name === producer.input![0])).toBe(false);
    expect(g.node!.some((n) => n.output!.includes(producer.input![0]!))).toBe(true);
    const embed = g.initializer!.find((t) => t.name === 'model.embed_tokens.weight')!;
    expect(embed.dataType).toBe(DataType.FLOAT);
    expect(embed.dims!.map(Number)).toEqual([512, 64]);
    // The [V, D] table is stored once.
    expect(g.initializer!.filter((t) => t.dims!.map(Number).join() === '64,512')).toHaveLength(0);
  });

  it('model.safetensors holds the llama2.c weights under LlamaForCausalLM names, q/k rows in the halves layout', () => {
    const { tensors, metadata } = decodeSafetensors(readFileSync(join(MODEL, 'model.safetensors')));
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.size).toBe(1 + 5 * 9 + 1); // embedding, 9 per layer, final norm; tied lm_head not stored
    expect(tensors.has('lm_head.weight')).toBe(false);
    const raw = readFileSync(BIN);
    const rawF32 = new Float32Array(raw.buffer.slice(raw.byteOffset + 28, raw.byteOffset + raw.byteLength));
    // Independent of the converter: index the raw v0 layout by hand (dim 64, hidden 172, 5 layers, kv dim 32, vocab 512).
    const D = 64,
      H = 172,
      L = 5,
      KV = 32,
      V = 512,
      HD = 8;
    const emb = tensors.get('model.embed_tokens.weight')!;
    expect(emb.shape).toEqual([V, D]);
    expect(Array.from(emb.data)).toEqual(Array.from(rawF32.subarray(0, V * D)));
    const wqStart = V * D + L * D; // after embedding and the attention norms
    const q2 = tensors.get('model.layers.2.self_attn.q_proj.weight')!;
    expect(q2.shape).toEqual([D, D]);
    const rawQ2 = rawF32.subarray(wqStart + 2 * D * D, wqStart + 3 * D * D);
    // HF row h*hd + j*hd/2 + i  =  llama2.c row h*hd + 2i + j
    for (const [h, i, j] of [
      [0, 0, 1],
      [3, 2, 0],
      [7, 3, 1],
    ] as const) {
      const hf = h * HD + j * (HD / 2) + i;
      const l2c = h * HD + 2 * i + j;
      expect(Array.from(q2.data.subarray(hf * D, (hf + 1) * D))).toEqual(
        Array.from(rawQ2.subarray(l2c * D, (l2c + 1) * D)),
      );
    }
    const wvStart = wqStart + L * D * D + L * KV * D;
    expect(Array.from(tensors.get('model.layers.4.self_attn.v_proj.weight')!.data)).toEqual(
      Array.from(rawF32.subarray(wvStart + 4 * KV * D, wvStart + 5 * KV * D)),
    );
    expect(tensors.get('model.layers.0.mlp.down_proj.weight')!.shape).toEqual([D, H]);
  });

  it('config.json is a LlamaForCausalLM config', () => {
    const cfg = JSON.parse(readFileSync(join(MODEL, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      hidden_size: 64,
      intermediate_size: 172,
      num_hidden_layers: 5,
      num_attention_heads: 8,
      num_key_value_heads: 4,
      vocab_size: 512,
      max_position_embeddings: 512,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      tie_word_embeddings: true,
      bos_token_id: 1,
      eos_token_id: 2,
      torch_dtype: 'float32',
    });
  });

  it('refuses a rope_theta that does not match the stored freq_cis tables', () => {
    const ck = parseLlama2cCheckpoint(readFileSync(BIN));
    expect(verifyRopeTheta(ck, 10000)).toBeLessThan(1e-4);
    expect(() => verifyRopeTheta(ck, 500000)).toThrow(/rope_theta/);
  });

  describe('the committed directory is reproducible', () => {
    const out = mkdtempSync(join(tmpdir(), 'tailguard-convert-'));
    afterAll(() => rmSync(out, { recursive: true, force: true }));
    it('byte-identical except the model card', () => {
      convertLlama2c({ bin: BIN, tok: TOK, out, name: 'stories260K' });
      const list = (dir: string): string[] =>
        readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? list(join(dir, f)) : [join(dir, f)]));
      const files = list(out)
        .map((f) => relative(out, f))
        .sort();
      expect(files).toEqual(
        list(MODEL)
          .map((f) => relative(MODEL, f))
          .sort(),
      );
      for (const f of files) {
        if (f === 'README.md') continue;
        expect(Buffer.compare(readFileSync(join(out, f)), readFileSync(join(MODEL, f))), f).toBe(0);
      }
      const card = readFileSync(join(MODEL, 'README.md'), 'utf8');
      expect(card).toContain('b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696');
      expect(card).toContain('037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312');
      expect(card).toContain('MIT');
    });
  });
});
