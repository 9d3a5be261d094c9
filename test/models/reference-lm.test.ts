/**
 * The bundled default model, models/tailguard-ref-6m: its layout, its tokenizer, its files agreeing with each other,
 * and that it is a trained general-English model (not random weights, not children's stories only).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../../scripts/lib/safetensors.js';
import { readModelSpec } from '../../src/lm/model-config.js';
import { DEFAULT_MODEL } from '../../src/lm/model-dir.js';
import { decodeModel } from '../../src/onnx/proto.js';
import { loadTokenizer, sameTokenizer } from '../../src/lm/tokenizer.js';
import { scoreCorpus } from '../../src/score/score-corpus.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'models', 'tailguard-ref-6m');

describe('models/tailguard-ref-6m', () => {
  it('is the default model, a tied LlamaForCausalLM with an 8,192-entry byte-level BPE', () => {
    expect(DEFAULT_MODEL).toBe('tailguard-ref-6m');
    const cfg = JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({
      architectures: ['LlamaForCausalLM'],
      hidden_size: 256,
      num_hidden_layers: 6,
      num_attention_heads: 8,
      num_key_value_heads: 4,
      intermediate_size: 688,
      vocab_size: 8192,
      max_position_embeddings: 256,
      tie_word_embeddings: true,
      bos_token_id: 8191,
      eos_token_id: 8191,
    });
    const tok = loadTokenizer(DIR, readModelSpec(DIR));
    expect(tok.documentStartId).toBe(8191);
    const text = 'It is a truth universally acknowledged — naïve café “quotes” 👋\n\nend.';
    const ids = tok.encode(text);
    expect(Math.max(...ids)).toBeLessThan(8191);
    const json = JSON.parse(readFileSync(join(DIR, 'tokenizer.json'), 'utf8'));
    expect(json.pre_tokenizer.type).toBe('ByteLevel');
    expect(Object.keys(json.model.vocab)).toHaveLength(8192);
    expect(tok.placeTokens([8191, ...ids], text)).not.toBeNull();
  });

  it('model.safetensors holds the same weights as the ONNX graph; the int8 variant quantizes every projection', () => {
    const st = decodeSafetensors(readFileSync(join(DIR, 'model.safetensors'))).tensors;
    expect(st.size).toBe(1 + 6 * 9 + 1);
    const onnx = decodeModel(readFileSync(join(DIR, 'onnx', 'model.onnx'))).graph!;
    const emb = onnx.initializer!.find((t) => t.name === 'model.embed_tokens.weight')!;
    const fromOnnx = new Float32Array(Uint8Array.from(emb.rawData!).buffer);
    expect(
      Buffer.compare(Buffer.from(fromOnnx.buffer), Buffer.from(st.get('model.embed_tokens.weight')!.data.buffer)),
    ).toBe(0);
    const q = decodeModel(readFileSync(join(DIR, 'onnx', 'model_quantized.onnx'))).graph!;
    expect(q.node!.filter((n) => n.opType === 'DynamicQuantizeMatMul')).toHaveLength(6 * 7 + 1);
  });

  it('ships its card, loss curve and zero-shot human reference', () => {
    const card = readFileSync(join(DIR, 'README.md'), 'utf8');
    for (const s of ['bits/byte', 'gutenberg_books', 'CC BY-SA', 'npm run train:reference-lm', 'AMD EPYC'])
      expect(card).toContain(s);
    const loss = readFileSync(join(DIR, 'training', 'loss.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(loss[loss.length - 1].val_loss).toBeLessThan(loss[0].val_loss - 3);
    const zs = JSON.parse(readFileSync(join(DIR, 'zero-shot.json'), 'utf8'));
    expect(zs.human_scores.length).toBe(1070);
    expect(zs.human_scores).toEqual([...zs.human_scores].sort((a: number, b: number) => a - b));
  });

  it('is a trained general-English model: fewer bits per byte on adult prose than stories260k, far below random', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-reflm-'));
    const texts = [
      'The committee met on Tuesday to consider the proposal, and after a long debate the members agreed to postpone the vote until the next session of Congress.',
      'It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness.',
    ];
    writeFileSync(join(dir, 'in.jsonl'), texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
    // Bits per byte = Σ NLL / (ln 2 · UTF-8 bytes): comparable across tokenizers, unlike per-token perplexity.
    const bitsPerByte = async (model: string) => {
      await scoreCorpus({ input: join(dir, 'in.jsonl'), out: join(dir, model), model, device: 'cpu' });
      const rows = readFileSync(join(dir, model, 'scores.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { mean_nll: number; tokens: number });
      return rows.map((r, i) => (r.mean_nll * r.tokens) / (Math.LN2 * Buffer.byteLength(texts[i]!)));
    };
    const ref = await bitsPerByte('tailguard-ref-6m');
    const stories = await bitsPerByte('stories260k');
    for (const [i, b] of ref.entries()) {
      expect(b).toBeLessThan(2.5); // uniform over 8,192 tokens would be ≈ 13 bits per ≈ 4-byte token ≈ 3.3 bits/byte, and far worse in practice
      expect(b).toBeLessThan(stories[i]!);
    }
  });
});

describe('models/tailguard-ref-6m-observer: the Binoculars observer', () => {
  const OBSERVER = join(ROOT, 'models', 'tailguard-ref-6m-observer');

  it("shares the reference LM's tokenizer and shape, and ships its graph and card", () => {
    expect(sameTokenizer(DIR, OBSERVER)).toBe(true);
    const a = readModelSpec(DIR);
    const b = readModelSpec(OBSERVER);
    expect([b.vocabSize, b.hiddenSize, b.contextLength]).toEqual([a.vocabSize, a.hiddenSize, a.contextLength]);
    expect(readFileSync(join(OBSERVER, 'README.md'), 'utf8')).toContain('observer');
    // A different checkpoint: the same initializer names, other values.
    const emb = (dir: string) =>
      decodeModel(readFileSync(join(dir, 'onnx', 'model.onnx'))).graph!.initializer!.find(
        (t) => t.name === 'model.embed_tokens.weight',
      )!;
    expect(Buffer.compare(Buffer.from(emb(DIR).rawData!), Buffer.from(emb(OBSERVER).rawData!))).not.toBe(0);
  });

  it('scores with the reference LM in one graph: a finite, positive binoculars on every row', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-bino-'));
    writeFileSync(
      join(dir, 'in.jsonl'),
      `${JSON.stringify({ text: 'It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness.' })}\n`,
    );
    await scoreCorpus({
      input: join(dir, 'in.jsonl'),
      out: join(dir, 'out'),
      model: 'tailguard-ref-6m',
      observerModel: 'tailguard-ref-6m-observer',
      device: 'cpu',
    });
    const row = JSON.parse(readFileSync(join(dir, 'out', 'scores.jsonl'), 'utf8')) as {
      binoculars: number;
      mean_nll: number;
      mean_entropy: number;
    };
    expect(Number.isFinite(row.binoculars)).toBe(true);
    expect(row.binoculars).toBeGreaterThan(0);
    expect(row.binoculars).toBeLessThan(1.5);
  });
});
