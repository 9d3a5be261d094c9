/**
 * test/fixtures/tiny-gpt2 (scripts/make-tiny-gpt2.ts output) against the independent float64 GPT-2 reference
 * (test/reference/gpt2.ts): logits, batching with padding, the KV-cache interface, graph layout, tokenizer,
 * and that the committed fixture is exactly what the script produces.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyGpt2 } from '../../scripts/make-tiny-gpt2.js';
import { decodeModel } from '../../src/onnx/proto.js';
import { Gpt2Reference } from '../reference/gpt2.js';
import { allFinite, type DecoderShape, logSoftmax64, maxLogProbDiff, runBatch, runWithPast } from './decoder-run.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = join(ROOT, 'test/fixtures/tiny-gpt2');
const TOL = 1e-4;
const config = JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8'));
const tokenizer = new Tokenizer(
  JSON.parse(readFileSync(join(DIR, 'tokenizer.json'), 'utf8')),
  JSON.parse(readFileSync(join(DIR, 'tokenizer_config.json'), 'utf8')),
);
const ref = Gpt2Reference.fromDir(DIR);
const SHAPE: DecoderShape = {
  nLayers: config.n_layer,
  kvHeads: config.n_head,
  headDim: config.n_embd / config.n_head,
  vocab: config.vocab_size,
};
const EOT: number = config.eos_token_id;

const TEXTS = [
  'The children played on the stone bridge every afternoon, and the river ran past the old mill.',
  "It's raining in the north: 12 degrees!",
  'Café ☕ and 😀 — bytes.',
  'mill',
];
const seqs = TEXTS.map((t) =>
  [EOT, ...tokenizer.encode(t, { add_special_tokens: false }).ids].slice(0, config.n_positions),
);

let session: ort.InferenceSession;
beforeAll(async () => {
  session = await ort.InferenceSession.create(join(DIR, 'onnx', 'model.onnx'));
});

describe('tiny-gpt2 fixture', () => {
  it('config and tokenizer agree', () => {
    expect(config).toMatchObject({
      model_type: 'gpt2',
      n_embd: 32,
      n_layer: 2,
      n_head: 4,
      n_positions: 64,
      activation_function: 'gelu_new',
    });
    expect(config.bos_token_id).toBe(EOT);
    expect(tokenizer.token_to_id('<|endoftext|>')).toBe(EOT);
    expect(config.vocab_size).toBe(EOT + 1);
    expect(tokenizer.get_vocab().size).toBe(config.vocab_size);
  });

  it('tokenizer: byte-level BPE with merges, lossless round trip', () => {
    const enc = tokenizer.encode(' the river', { add_special_tokens: false });
    expect(enc.tokens).toEqual(['Ġthe', 'Ġ', 'ri', 'ver']); // merges Ġ+t, Ġt+he, r+i, v+er
    for (const t of [...TEXTS, '  spaces\n\nand newlines\t', '日本語', '<|endoftext|> marks a boundary']) {
      const ids = tokenizer.encode(t, { add_special_tokens: false }).ids;
      expect(ids.every((i: number) => i >= 0 && i < config.vocab_size)).toBe(true);
      expect(tokenizer.decode(ids)).toBe(t);
    }
    expect(tokenizer.encode('a<|endoftext|>b', { add_special_tokens: false }).ids).toContain(EOT);
  });

  it('has the optimum decoder-with-past interface and logits = MatMul(ln_f, wte^T)', () => {
    const pkv = Array.from({ length: 2 }, (_, i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]).flat();
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'position_ids', ...pkv]);
    expect(session.outputNames).toEqual(['logits', ...pkv.map((n) => n.replace('past_key_values.', 'present.'))]);
    const g = decodeModel(readFileSync(join(DIR, 'onnx', 'model.onnx'))).graph!;
    const producer = g.node!.find((n) => n.output!.includes('logits'))!;
    expect(producer.opType).toBe('MatMul');
    const w = g.initializer!.find((t) => t.name === producer.input![1])!;
    expect(w.dims!.map(Number)).toEqual([32, config.vocab_size]);
    const lnf = g.node!.find((n) => n.output!.includes(producer.input![0]!))!;
    expect(lnf.opType).toBe('LayerNormalization');
  });

  it('ONNX log-probs within 1e-4 of the float64 reference; distributions are far from uniform', async () => {
    for (const s of seqs) {
      const run = await runBatch(session, SHAPE, [s], { padId: EOT });
      const want = ref.forwardLogits(s);
      const entropies: number[] = [];
      for (let t = 0; t < s.length; t++) {
        expect(maxLogProbDiff(run.logits[0]![t]!, want[t]!)).toBeLessThan(TOL);
        const lp = logSoftmax64(want[t]!);
        entropies.push(-lp.reduce((a, l) => a + Math.exp(l) * l, 0));
      }
      expect(Math.max(...entropies)).toBeLessThan(0.9 * Math.log(config.vocab_size));
    }
  });

  it('right-padded batch = unbatched = reference; left padding stays NaN-free', async () => {
    const right = await runBatch(session, SHAPE, seqs, { padId: EOT, side: 'right' });
    const left = await runBatch(session, SHAPE, seqs, { padId: EOT, side: 'left' });
    expect(allFinite(right.logits) && allFinite(left.logits)).toBe(true);
    const S = Math.max(...seqs.map((s) => s.length));
    for (const [b, s] of seqs.entries()) {
      const single = await runBatch(session, SHAPE, [s], { padId: EOT });
      const want = ref.forwardLogits(s);
      for (let t = 0; t < s.length; t++) {
        expect(maxLogProbDiff(right.logits[b]![t]!, single.logits[0]![t]!)).toBeLessThan(1e-5);
        expect(maxLogProbDiff(right.logits[b]![t]!, want[t]!)).toBeLessThan(TOL);
        expect(maxLogProbDiff(left.logits[b]![S - s.length + t]!, want[t]!)).toBeLessThan(TOL);
      }
    }
  });

  it('past key/values continuation = one pass', async () => {
    const s = seqs[0]!;
    const want = ref.forwardLogits(s);
    for (const cut of [1, 9]) {
      const logits = await runWithPast(session, SHAPE, s, cut);
      for (let t = 0; t < s.length; t++) expect(maxLogProbDiff(logits[t]!, want[t]!)).toBeLessThan(TOL);
    }
  });

  it('nllPerToken is -log softmax at the next token', () => {
    const s = seqs[1]!;
    const nll = ref.nllPerToken(s);
    const logits = ref.forwardLogits(s);
    expect(nll).toHaveLength(s.length - 1);
    expect(nll[0]).toBeCloseTo(-logSoftmax64(logits[0]!)[s[1]!]!, 12);
  });

  describe('the committed fixture is reproducible', () => {
    const out = mkdtempSync(join(tmpdir(), 'tailguard-gpt2-'));
    afterAll(() => rmSync(out, { recursive: true, force: true }));
    it('byte-identical', () => {
      makeTinyGpt2(out);
      const list = (dir: string): string[] =>
        readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? list(join(dir, f)) : [join(dir, f)]));
      const files = list(out)
        .map((f) => relative(out, f))
        .sort();
      expect(files).toEqual(
        list(DIR)
          .map((f) => relative(DIR, f))
          .sort(),
      );
      for (const f of files) expect(Buffer.compare(readFileSync(join(out, f)), readFileSync(join(DIR, f))), f).toBe(0);
    });
  });
});
