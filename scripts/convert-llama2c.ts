/**
 * Converts a llama2.c checkpoint (legacy v0 .bin) and its tokenizer into a Hugging Face / transformers.js style
 * directory: config.json, generation_config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
 * model.safetensors (the same weights under LlamaForCausalLM names), onnx/model.onnx (fp32, optimum
 * decoder-with-past interface) and a README.md model card.
 *
 * The tokenizer is either llama2.c's tok*.bin (--tok; sentencepiece-style, BOS 1 / EOS 2) or a directory that already
 * holds Hugging Face tokenizer files (--tokenizer; BOS/EOS = its tokenizer_config's bos_token/eos_token).
 * `--card none` skips the card (llama2.c "tinyllamas" wording) for models whose recipe writes its own.
 *
 *   node --import tsx scripts/convert-llama2c.ts --bin X.bin (--tok Y.bin | --tokenizer DIR) --out DIR [--name NAME] [--card none]
 *   npm run convert:llama2c -- --bin X.bin --tok Y.bin --out DIR
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseFlags, runIfMain, sha256, writeBytes, writeJson } from './lib/files.js';
import { buildLlamaOnnx, hfLlamaTensors, LLAMA_OPSET, verifyRopeTheta } from './lib/llama-onnx.js';
import { encodeSafetensors } from './lib/safetensors.js';
import { parseLlama2cCheckpoint, parseLlama2cTokenizer } from './lib/llama2c-format.js';
import {
  buildLlamaSpecialTokensMap,
  buildLlamaTokenizerConfig,
  buildLlamaTokenizerJson,
} from './lib/llama-tokenizer-json.js';

export const ROPE_THETA = 10000;
export const RMS_NORM_EPS = 1e-5;

export interface ConvertOptions {
  bin: string;
  /** llama2.c tokenizer (tok*.bin). Exactly one of tok / tokenizerDir. */
  tok?: string;
  /** A directory with tokenizer.json, tokenizer_config.json, special_tokens_map.json to copy. */
  tokenizerDir?: string;
  /** Write the llama2.c card (default true). */
  card?: boolean;
  out: string;
  /** Model name for the card (default: the .bin's base name). */
  name?: string;
  /** The command line recorded in the model card. */
  commandLine?: string;
}

export interface ConvertResult {
  files: string[];
  ropeMaxDeviation: number;
}

export function convertLlama2c(opts: ConvertOptions): ConvertResult {
  if ((opts.tok === undefined) === (opts.tokenizerDir === undefined))
    throw new Error('give exactly one of --tok and --tokenizer');
  const binBytes = readFileSync(opts.bin);
  const ck = parseLlama2cCheckpoint(binBytes);
  const cfg = ck.config;
  const ropeMaxDeviation = verifyRopeTheta(ck, ROPE_THETA);

  const out = opts.out;
  const files: string[] = [];
  const json = (name: string, value: unknown) => {
    writeJson(join(out, name), value);
    files.push(name);
  };

  const special = opts.tok === undefined ? copyTokenizer(opts.tokenizerDir!, out, cfg.vocabSize) : { bos: 1, eos: 2 };
  json('config.json', {
    architectures: ['LlamaForCausalLM'],
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: special.bos,
    eos_token_id: special.eos,
    head_dim: cfg.headSize,
    hidden_act: 'silu',
    hidden_size: cfg.dim,
    initializer_range: 0.02,
    intermediate_size: cfg.hiddenDim,
    max_position_embeddings: cfg.seqLen,
    mlp_bias: false,
    model_type: 'llama',
    num_attention_heads: cfg.nHeads,
    num_hidden_layers: cfg.nLayers,
    num_key_value_heads: cfg.nKvHeads,
    pretraining_tp: 1,
    rms_norm_eps: RMS_NORM_EPS,
    rope_scaling: null,
    rope_theta: ROPE_THETA,
    tie_word_embeddings: cfg.sharedClassifier,
    torch_dtype: 'float32',
    use_cache: true,
    vocab_size: cfg.vocabSize,
  });
  json('generation_config.json', { _from_model_config: true, bos_token_id: special.bos, eos_token_id: special.eos });
  if (opts.tok !== undefined) {
    json('tokenizer.json', buildLlamaTokenizerJson(parseLlama2cTokenizer(readFileSync(opts.tok), cfg.vocabSize)));
    json('tokenizer_config.json', buildLlamaTokenizerConfig(cfg.seqLen));
    json('special_tokens_map.json', buildLlamaSpecialTokensMap());
  } else files.push(...TOKENIZER_FILES);

  writeBytes(join(out, 'model.safetensors'), encodeSafetensors(hfLlamaTensors(ck)));
  files.push('model.safetensors');

  const onnx = buildLlamaOnnx(ck, { ropeTheta: ROPE_THETA, rmsNormEps: RMS_NORM_EPS });
  writeBytes(join(out, 'onnx', 'model.onnx'), onnx);
  files.push('onnx/model.onnx');

  if (opts.card !== false && opts.tok !== undefined) {
    const name = opts.name ?? basename(opts.bin).replace(/\.bin$/, '');
    const command =
      opts.commandLine ?? `npm run convert:llama2c -- --bin ${opts.bin} --tok ${opts.tok} --out ${opts.out}`;
    writeBytes(
      join(out, 'README.md'),
      modelCard({
        name,
        command,
        binName: basename(opts.bin),
        tokName: basename(opts.tok),
        binSha: sha256(binBytes),
        tokSha: sha256(readFileSync(opts.tok)),
        onnxSha: sha256(onnx),
        cfg,
        ropeMaxDeviation,
      }),
    );
    files.push('README.md');
  }
  return { files, ropeMaxDeviation };
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

/** Copies Hugging Face tokenizer files; returns the ids of their BOS/EOS tokens, checked against the vocabulary size. */
function copyTokenizer(dir: string, out: string, vocabSize: number): { bos: number; eos: number } {
  for (const f of TOKENIZER_FILES) {
    if (!existsSync(join(dir, f))) throw new Error(`${dir} has no ${f}`);
  }
  const tokenizer = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as {
    added_tokens?: { id: number; content: string }[];
    model?: { vocab?: Record<string, number> };
  };
  const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as {
    bos_token?: string;
    eos_token?: string;
  };
  const idOf = (content: string | undefined, what: string): number => {
    const id =
      tokenizer.added_tokens?.find((t) => t.content === content)?.id ??
      (content === undefined ? undefined : tokenizer.model?.vocab?.[content]);
    if (id === undefined)
      throw new Error(`${dir}: tokenizer_config.json's ${what} (${String(content)}) is not in tokenizer.json`);
    return id;
  };
  const size = Object.keys(tokenizer.model?.vocab ?? {}).length;
  if (size !== vocabSize)
    throw new Error(`${dir}: tokenizer has ${size} entries, the checkpoint's vocabulary ${vocabSize}`);
  mkdirSync(out, { recursive: true });
  for (const f of TOKENIZER_FILES) copyFileSync(join(dir, f), join(out, f));
  return { bos: idOf(config.bos_token, 'bos_token'), eos: idOf(config.eos_token, 'eos_token') };
}

function modelCard(a: {
  name: string;
  command: string;
  binName: string;
  tokName: string;
  binSha: string;
  tokSha: string;
  onnxSha: string;
  cfg: ReturnType<typeof parseLlama2cCheckpoint>['config'];
  ropeMaxDeviation: number;
}): string {
  const c = a.cfg;
  return `---
license: mit
library_name: transformers.js
pipeline_tag: text-generation
tags:
  - llama
  - onnx
  - tinystories
  - llama2.c
---

# ${a.name} (llama2.c → Llama ONNX)

A tiny Llama-architecture language model (${c.nLayers} layers, hidden size ${c.dim}, ${c.nHeads} attention heads,
${c.nKvHeads} key/value heads, FFN ${c.hiddenDim}, vocabulary ${c.vocabSize}, context ${c.seqLen}) from Andrej Karpathy's
[llama2.c](https://github.com/karpathy/llama2.c) "tinyllamas" series, trained on the TinyStories dataset, repackaged
in the Hugging Face / transformers.js layout with an fp32 ONNX graph.

**It knows only children's stories.** Perplexity is about 1.22 on "Once upon a time, there was a little girl named
Lily. She loved to play outside in the park with her friends." (BOS + dummy-prefix space, every token scored) and in
the high tens to hundreds on adult prose. tailguard ships it to exercise the whole scoring path with real weights; it
is not a reference LM for real corpora.

## Origin and licence

Weights and tokenizer: llama2.c / tinyllamas by Andrej Karpathy, **MIT licence**. The source files were obtained
from the public repository \`ytmytm/llama2.c64\` at commit \`12b5bec82eb980362b8a7bfe86992a552a492481\` (MIT), and
are kept in this repository under \`test/fixtures/stories260k/\`.

| input | sha256 |
| --- | --- |
| \`${a.binName}\` | \`${a.binSha}\` |
| \`${a.tokName}\` | \`${a.tokSha}\` |

## Conversion

\`\`\`
${a.command}
\`\`\`

(tailguard \`scripts/convert-llama2c.ts\`; output \`onnx/model.onnx\` sha256 \`${a.onnxSha}\`.)

- Architecture as transformers' \`LlamaForCausalLM\`: RMSNorm (eps 1e-5), SwiGLU MLP, grouped-query attention,
  rotary embeddings with rope_theta ${ROPE_THETA}, output classifier ${c.sharedClassifier ? 'tied to the token embedding' : 'separate (untied)'}.
  The checkpoint's stored freq_cis tables were checked against theta ${ROPE_THETA} (max deviation ${a.ropeMaxDeviation.toExponential(2)}).
- llama2.c rotates interleaved pairs (2i, 2i+1); this export rotates halves (\`rotate_half\`), so the rows of
  q_proj/k_proj are permuted per head exactly like \`permute()\` in transformers' \`convert_llama_weights_to_hf.py\`.
- \`onnx/model.onnx\`: opset ${LLAMA_OPSET}, IR 8, fp32, the optimum decoder-with-past interface —
  inputs \`input_ids\` / \`position_ids\` int64 [batch, seq], \`attention_mask\` int64 [batch, past+seq],
  \`past_key_values.{0..${c.nLayers - 1}}.key|value\` float32 [batch, ${c.nKvHeads}, past, ${c.headSize}];
  outputs \`logits\` float32 [batch, seq, ${c.vocabSize}], \`present.{0..${c.nLayers - 1}}.key|value\`
  float32 [batch, ${c.nKvHeads}, past+seq, ${c.headSize}] and \`last_hidden_state\` float32 [batch, seq, ${c.dim}] (the final
  RMSNorm's output). The logits are \`MatMul(final RMSNorm output, ${c.sharedClassifier ? 'Transpose(model.embed_tokens.weight)' : 'lm_head.weight_transposed'} [${c.dim}, ${c.vocabSize}])\`.
- \`model.safetensors\`: the same fp32 weights under transformers' LlamaForCausalLM names (q/k rows permuted as
  above${c.sharedClassifier ? '; the tied lm_head is not stored, transformers re-ties it' : ''}), for PyTorch tools.
- \`tokenizer.json\`: the sentencepiece BPE vocabulary as transformers' LlamaConverter writes it (legacy: Prepend "▁",
  spaces → "▁", byte fallback), merges derived from the vocabulary scores. It reproduces llama2.c's \`encode()\`
  (BOS is added by the caller).
`;
}

function main(): void {
  const args = parseFlags(process.argv.slice(2), ['bin', 'tok', 'tokenizer', 'out', 'name', 'card']);
  if (!args.bin || !(args.tok || args.tokenizer) || !args.out || (args.card !== undefined && args.card !== 'none')) {
    console.error(
      'usage: node --import tsx scripts/convert-llama2c.ts --bin X.bin (--tok Y.bin | --tokenizer DIR) --out DIR [--name NAME] [--card none]',
    );
    process.exit(2);
  }
  const commandLine = `npm run convert:llama2c -- ${process.argv.slice(2).join(' ')}`;
  const res = convertLlama2c({
    bin: args.bin,
    tok: args.tok,
    tokenizerDir: args.tokenizer,
    out: args.out,
    name: args.name,
    commandLine,
    card: args.card !== 'none',
  });
  console.log(`wrote ${res.files.map((f) => join(args.out!, f)).join(', ')}`);
}

runIfMain(import.meta.url, main);
