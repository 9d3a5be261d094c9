/**
 * Writes test/fixtures/tiny-gpt2/: a small, randomly initialised (seeded, deterministic) GPT-2 in the optimum /
 * transformers.js layout — config.json, generation_config.json, tokenizer.json (byte-level BPE trained on a few
 * English paragraphs), tokenizer_config.json, special_tokens_map.json, onnx/model.onnx — plus the raw weights
 * (reference-weights.json manifest + reference-weights.bin float32 LE) for test/reference/gpt2.ts.
 *
 *   node --import tsx scripts/make-tiny-gpt2.ts [--out test/fixtures/tiny-gpt2]
 */
import { join } from 'node:path';
import { byteLevelTokenizerFiles, trainByteBpe } from './lib/byte-bpe.js';
import { parseFlags, runIfMain, sha256, writeBytes, writeJson } from './lib/files.js';
import { buildGpt2Onnx, GPT2_OPSET, type Gpt2Config, type Gpt2Weights } from './lib/gpt2-onnx.js';
import { Prng } from './lib/prng.js';

export const DEFAULT_OUT = 'test/fixtures/tiny-gpt2';
export const SEED = 20240607;
export const N_MERGES = 64;
export const EOT = '<|endoftext|>';

/** Original text used only to learn the BPE merges. */
export const BPE_CORPUS = `The river ran past the old mill and into the town, where the children played on the stone bridge every
afternoon. In the spring the water was high and fast; in the summer it was slow, warm and full of little fish.
Their grandmother said that the mill had been built two hundred years ago, before the railway and before the
factory on the hill. She remembered the sound of the wheel turning, and the smell of flour in the air.
Nobody knows exactly when the last miller left. Some say he went to the city to find work; others say he simply
grew tired of the noise. The town council has talked about turning the building into a museum, a library, or a
cafe, but the discussion never ends. Meanwhile the roof leaks, the windows are broken, and the birds have moved in.
On Saturday mornings the market fills the square with vegetables, bread, cheese, honey and flowers. Farmers from
the valley arrive before dawn, and by eight o'clock the stalls are ready. People argue about prices, exchange news,
and drink coffee from paper cups. It's the one place where everyone in the town meets everyone else.
The weather report for the weekend predicts rain in the north and sunshine in the south, with temperatures
between 12 and 18 degrees. Drivers should expect delays on the main road because of the repairs near the bridge.
`;

export const TINY_GPT2: Omit<Gpt2Config, 'vocabSize'> = {
  nPositions: 64,
  nEmbd: 32,
  nLayer: 2,
  nHead: 4,
  layerNormEpsilon: 1e-5,
};

/** Random weights in transformers' GPT-2 naming and Conv1D layout; std large enough for peaked distributions. */
export function randomGpt2Weights(cfg: Gpt2Config, seed: number): Gpt2Weights {
  const rng = new Prng(seed);
  const w: Gpt2Weights = new Map();
  const D = cfg.nEmbd;
  const add = (name: string, shape: number[], std: number, mean = 0) => {
    w.set(name, {
      data: rng.normals(
        shape.reduce((a, b) => a * b, 1),
        std,
        mean,
      ),
      shape,
    });
  };
  add('transformer.wte.weight', [cfg.vocabSize, D], 0.5);
  add('transformer.wpe.weight', [cfg.nPositions, D], 0.2);
  for (let l = 0; l < cfg.nLayer; l++) {
    const p = `transformer.h.${l}`;
    add(`${p}.ln_1.weight`, [D], 0.2, 1);
    add(`${p}.ln_1.bias`, [D], 0.1);
    add(`${p}.attn.c_attn.weight`, [D, 3 * D], 0.3);
    add(`${p}.attn.c_attn.bias`, [3 * D], 0.1);
    add(`${p}.attn.c_proj.weight`, [D, D], 0.25);
    add(`${p}.attn.c_proj.bias`, [D], 0.05);
    add(`${p}.ln_2.weight`, [D], 0.2, 1);
    add(`${p}.ln_2.bias`, [D], 0.1);
    add(`${p}.mlp.c_fc.weight`, [D, 4 * D], 0.3);
    add(`${p}.mlp.c_fc.bias`, [4 * D], 0.1);
    add(`${p}.mlp.c_proj.weight`, [4 * D, D], 0.2);
    add(`${p}.mlp.c_proj.bias`, [D], 0.05);
  }
  add('transformer.ln_f.weight', [D], 0.2, 1);
  add('transformer.ln_f.bias', [D], 0.1);
  return w;
}

export function makeTinyGpt2(out = DEFAULT_OUT): string[] {
  const bpe = trainByteBpe(BPE_CORPUS, N_MERGES);
  const eotId = bpe.vocab.size;
  const vocabSize = eotId + 1;
  const cfg: Gpt2Config = { ...TINY_GPT2, vocabSize };
  const weights = randomGpt2Weights(cfg, SEED);
  const files: string[] = [];
  const json = (name: string, value: unknown) => {
    writeJson(join(out, name), value);
    files.push(name);
  };

  json('config.json', {
    activation_function: 'gelu_new',
    architectures: ['GPT2LMHeadModel'],
    attn_pdrop: 0.0,
    bos_token_id: eotId,
    embd_pdrop: 0.0,
    eos_token_id: eotId,
    initializer_range: 0.3,
    layer_norm_epsilon: cfg.layerNormEpsilon,
    model_type: 'gpt2',
    n_ctx: cfg.nPositions,
    n_embd: cfg.nEmbd,
    n_head: cfg.nHead,
    n_inner: null,
    n_layer: cfg.nLayer,
    n_positions: cfg.nPositions,
    reorder_and_upcast_attn: false,
    resid_pdrop: 0.0,
    scale_attn_by_inverse_layer_idx: false,
    scale_attn_weights: true,
    tie_word_embeddings: true,
    torch_dtype: 'float32',
    use_cache: true,
    vocab_size: vocabSize,
  });
  json('generation_config.json', { _from_model_config: true, bos_token_id: eotId, eos_token_id: eotId });
  for (const [name, value] of Object.entries(byteLevelTokenizerFiles(bpe, EOT, cfg.nPositions))) json(name, value);

  const onnx = buildGpt2Onnx(cfg, weights);
  writeBytes(join(out, 'onnx', 'model.onnx'), onnx);
  files.push('onnx/model.onnx');

  // Raw weights for the float64 reference.
  const tensors: { name: string; shape: number[]; offset: number; length: number }[] = [];
  let total = 0;
  for (const [name, t] of weights) {
    tensors.push({ name, shape: t.shape, offset: total, length: t.data.length });
    total += t.data.length;
  }
  const flat = new Float32Array(total);
  for (const [i, [, t]] of [...weights].entries()) flat.set(t.data, tensors[i]!.offset);
  const bin = new Uint8Array(flat.buffer);
  writeBytes(join(out, 'reference-weights.bin'), bin);
  files.push('reference-weights.bin');
  json('reference-weights.json', {
    format:
      'float32 little-endian, concatenated; offset/length in elements; transformers GPT-2 names, Conv1D weights [in, out]',
    bin: 'reference-weights.bin',
    sha256: sha256(bin),
    config: {
      vocab_size: vocabSize,
      n_positions: cfg.nPositions,
      n_embd: cfg.nEmbd,
      n_layer: cfg.nLayer,
      n_head: cfg.nHead,
      layer_norm_epsilon: cfg.layerNormEpsilon,
      activation_function: 'gelu_new',
    },
    tensors,
  });

  writeBytes(
    join(out, 'README.md'),
    `# tiny-gpt2 — test fixture

A randomly initialised GPT-2 (GPT2LMHeadModel: ${cfg.nLayer} layers, n_embd ${cfg.nEmbd}, ${cfg.nHead} heads,
n_positions ${cfg.nPositions}, vocabulary ${vocabSize}) in the optimum / transformers.js layout. It is **not trained**: weights
are drawn from a seeded PRNG (seed ${SEED}) with large standard deviations so that next-token distributions are
peaked and vary between positions. n_positions is deliberately small so that windowing is exercised.

Generated by \`node --import tsx scripts/make-tiny-gpt2.ts\` (deterministic; rerun to regenerate).

- \`tokenizer.json\`: GPT-2 style byte-level BPE — the 256 byte symbols, ${N_MERGES} merges learned from a few
  English paragraphs (in the script), and \`${EOT}\` (id ${eotId}, also BOS/EOS).
- \`onnx/model.onnx\`: opset ${GPT2_OPSET}, IR 8, fp32. Inputs \`input_ids\`, \`position_ids\` int64 [batch, seq],
  \`attention_mask\` int64 [batch, past+seq], \`past_key_values.{i}.key|value\` float32 [batch, ${cfg.nHead}, past, ${cfg.nEmbd / cfg.nHead}];
  outputs \`logits\` float32 [batch, seq, ${vocabSize}] = MatMul(ln_f output, lm_head.weight_transposed) and
  \`present.{i}.key|value\`.
- \`reference-weights.json\` / \`reference-weights.bin\`: the same weights, raw, for \`test/reference/gpt2.ts\`.
`,
  );
  files.push('README.md');
  return files;
}

function main(): void {
  const args = parseFlags(process.argv.slice(2), ['out']);
  const out = args.out ?? DEFAULT_OUT;
  const files = makeTinyGpt2(out);
  console.log(`wrote ${files.map((f) => join(out, f)).join(', ')}`);
}

runIfMain(import.meta.url, main);
