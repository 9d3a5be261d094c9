/**
 * Last step of the reference-LM recipe: the model card, models/NAME/README.md, from what the earlier steps wrote —
 * DATA/data.json (prepare-data.ts), DATA/run/{train.json, loss.jsonl} (train.py) and the held-out evaluation by
 * tailguard's engine (bench/heldout-bpb.ts --json). Also copies the loss curve beside the model (training/loss.jsonl),
 * and removes the int8 variant when its held-out perplexity is not within 2% of fp32's.
 *
 *   node --import tsx scripts/train-lm/write-card.ts --model models/NAME --data tmp/train-lm --eval bench/results/NAME-heldout.json
 *       [--stages run] [--observer models/NAME-observer --observer-run observer]
 *
 * --stages names the training runs in DATA in order (a warm-started stage continues the one before); the card adds
 * up their tokens and time and shows one curve. --observer also writes the card of the sibling that serves as the
 * Binoculars observer, trained as DATA/<--observer-run> (warm-started from the model).
 */
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ModelEval } from '../../bench/heldout-bpb.js';
import { parseFlags, runIfMain, writeBytes } from '../lib/files.js';
import { TRAINING_SOURCES } from './sources.js';

interface DataJson {
  vocab_size: number;
  train_tokens: number;
  val_tokens: number;
  sources: Record<string, { docs: number; bytes: number; tokens: number; valDocs: number }>;
}
interface TrainJson {
  args: Record<string, number | string | boolean>;
  model: {
    dim: number;
    n_layers: number;
    n_heads: number;
    n_kv_heads: number;
    vocab_size: number;
    hidden_dim: number;
    max_seq_len: number;
  };
  parameters: number;
  tokens_seen: number;
  train_tokens_available: number;
  epochs: number;
  train_seconds: number;
  final_val_loss: number;
  hardware: string;
}
interface LossRow {
  step: number;
  tokens: number;
  train_loss?: number;
  val_loss: number;
  lr?: number;
  /** Which stage (index into --stages) the row belongs to. */
  stage?: number;
}

/** Several warm-started stages read as one run: tokens and time added up, the last stage's shape and final loss. */
export function combineStages(stages: TrainJson[]): TrainJson & { stages: TrainJson[] } {
  const last = stages[stages.length - 1]!;
  const tokens = stages.reduce((a, t) => a + t.tokens_seen, 0);
  return {
    ...last,
    tokens_seen: tokens,
    epochs: tokens / last.train_tokens_available,
    train_seconds: stages.reduce((a, t) => a + t.train_seconds, 0),
    stages,
  };
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const mb = (bytes: number) => (bytes / 1e6).toFixed(2);
const n = (x: number) => x.toLocaleString('en-US');

export function modelCard(
  name: string,
  data: DataJson,
  train: TrainJson & { stages?: TrainJson[] },
  loss: LossRow[],
  evals: ModelEval[],
  sizes: Record<string, number>,
  observer?: { name: string; eval?: ModelEval },
): string {
  const m = train.model;
  const fp32 = evals.find((e) => e.onnx.endsWith('model.onnx'))!;
  const int8 = evals.find((e) => e.onnx.endsWith('model_quantized.onnx'));
  const pplRatio = int8 ? int8.overall.perplexity / fp32.overall.perplexity : undefined;
  const srcRows = Object.entries(data.sources)
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .map(([s, v]) => `| ${s} | ${TRAINING_SOURCES[s] ?? '?'} | ${n(v.docs)} | ${mb(v.bytes)} | ${n(v.tokens)} |`);
  const total = Object.values(data.sources).reduce(
    (a, v) => ({ docs: a.docs + v.docs, bytes: a.bytes + v.bytes, tokens: a.tokens + v.tokens }),
    { docs: 0, bytes: 0, tokens: 0 },
  );
  const evalRow = (s: ModelEval['sources'][number], q?: ModelEval['sources'][number]) =>
    `| ${s.source} | ${s.trained_on ? 'yes' : 'no'} | ${s.docs} | ${(s.bytes / s.tokens).toFixed(2)} | ${s.perplexity.toFixed(1)} | ${s.bits_per_byte.toFixed(3)} |${q ? ` ${q.bits_per_byte.toFixed(3)} |` : ''}`;
  const qBySource = new Map(int8?.sources.map((s) => [s.source, s]));
  const every = Math.max(1, Math.round(loss.length / 16));
  const curve = loss.filter((r, i) => i % every === 0 || i === loss.length - 1 || r.stage !== loss[i - 1]?.stage);
  const hours = train.train_seconds / 3600;
  const several = (train.stages?.length ?? 1) > 1;
  const a = train.args;
  return `${frontMatter(true)}

# ${name}

tailguard's default reference language model: a small Llama-architecture decoder trained from scratch on
human-written, pre-2020 English whose licences allow the weights to be redistributed. tailguard scores corpora with
it (perplexity, entropy, log-rank, Fast-DetectGPT curvature, embeddings); it is not meant for generation.

**Trained on a 2-core CPU, not a GPU**: ${several ? 'the tasks that built it' : 'the task that built it'} had no accelerator, so it is sized for what ${several ? 'background\nCPU runs' : 'a background\nCPU run'} of about ${hours < 1 ? `${Math.round(hours * 60)} minutes` : `${hours.toFixed(1)} hours`}${several ? ' in all' : ''} could train (on ${several ? 'shared machines' : 'a shared machine'}, beside other work). It has seen ${(train.tokens_seen / 1e6).toFixed(1)}M tokens
(${train.epochs.toFixed(2)} of an epoch): a model of this shape would keep improving with more compute, and a GPU run of the same
recipe with more steps (\`--steps\`) and a larger shape is the obvious next step.${
    observer
      ? `

Its sibling \`${observer.name}\` (\`models/${observer.name}\`) is warm-started from these weights and trained a little further on
other windows of the same data: same tokenizer and shape, ${observer.eval ? `held-out ${observer.eval.overall.bits_per_byte.toFixed(3)} bits/byte; ` : ''}tailguard uses it as the observer of the
Binoculars score (\`--observer-model ${observer.name}\`).`
      : ''
  }

| | |
| --- | --- |
| architecture | \`LlamaForCausalLM\`: ${m.n_layers} layers, hidden ${m.dim}, ${m.n_heads} heads (${m.n_kv_heads} key/value heads), SwiGLU FFN ${m.hidden_dim}, RMSNorm, RoPE θ=10000, tied classifier |
| parameters | ${n(train.parameters)} (${n(m.vocab_size * m.dim)} of them the tied embedding) |
| context | ${m.max_seq_len} tokens (tailguard windows longer documents) |
| tokenizer | byte-level BPE (GPT-2 pre-tokenization and byte alphabet), ${n(m.vocab_size)} entries: 256 bytes, ${n(m.vocab_size - 257)} merges, \`<|endoftext|>\` (document start/separator, id ${m.vocab_size - 1}) |
| training tokens seen | ${n(train.tokens_seen)} (${(train.stages ?? [train]).map((t) => `${n(t.args.steps as number)} steps × ${t.args.batch} sequences × ${t.args.seq} tokens`).join(' + ')}) of ${n(train.train_tokens_available)} available |
${(train.stages ?? [train]).map((t, i, all) => `| training${all.length > 1 ? `, stage ${i + 1}` : ''} | ${stageLine(t, i)} |`).join('\n')}
| training time and hardware | ${(train.stages ?? [train]).map((t) => `${(t.train_seconds / 60).toFixed(0)} min on ${t.hardware}`).join('; then ')} |
| final validation loss | ${train.final_val_loss.toFixed(3)} nats/token (perplexity ${Math.exp(train.final_val_loss).toFixed(1)}) on ${n(data.val_tokens)} held-back tokens of the training sources |
| held-out bits per byte | **${fp32.overall.bits_per_byte.toFixed(3)}** on all 17 sources of \`heldout.jsonl\`, ${fp32.trained_sources.bits_per_byte.toFixed(3)} on the sources it was trained on, ${fp32.unseen_sources.bits_per_byte.toFixed(3)} on the others |

## Files

| file | what | bytes |
| --- | --- | ---: |
${Object.entries(sizes)
  .map(([f, s]) => `| \`${f}\` | ${FILE_NOTES[f] ?? ''} | ${n(s)} |`)
  .join('\n')}

## Data

Only the sources of tailguard's human corpus (\`../shared/corpora/human\`, see its MANIFEST.md) whose licence permits
redistribution; research-only sources (IMDb reviews, blog authorship corpus, 20 Newsgroups, Reuters-21578, Brown
corpus, BBC News) were never trained on, and appear below only as unseen human text. The 1% \`heldout.jsonl\` was
removed from the shards before training, and 0.5% of the training sources' documents (by a hash of their id) were held
back again as the validation stream of the loss curve.

| source | licence | training docs | MB | tokens |
| --- | --- | ---: | ---: | ---: |
${srcRows.join('\n')}
| **total** | | ${n(total.docs)} | ${mb(total.bytes)} | ${n(total.tokens)} |

Project Gutenberg books are ${((100 * (data.sources.gutenberg_books?.bytes ?? 0)) / total.bytes).toFixed(0)}% of the bytes: the model leans towards 19th- and early
20th-century prose, speeches and technical English (PEPs, RFCs, Stack Exchange), and knows little of reviews, blogs
or news — which the per-source numbers below show.

## Evaluation (tailguard's scoring engine)

Computed by \`bench/heldout-bpb.ts\`, which scores \`heldout.jsonl\` with tailguard's engine (not the training code):
bits per byte = Σ NLL / (ln 2 · Σ UTF-8 bytes), every token of every document predicted from the document-start token
on. ${speedLine(fp32, int8)}

| source | trained on | docs | bytes/token | token ppl | bits/byte |${int8 ? ' bits/byte int8 |' : ''}
| --- | --- | ---: | ---: | ---: | ---: |${int8 ? ' ---: |' : ''}
${fp32.sources.map((s) => evalRow(s, qBySource.get(s.source))).join('\n')}
${evalRow({ ...fp32.trained_sources, source: '**trained-on sources**' }, int8?.trained_sources)}
${evalRow({ ...fp32.unseen_sources, source: '**unseen sources**' }, int8?.unseen_sources)}
${evalRow({ ...fp32.overall, source: '**all**' }, int8?.overall).replace('| no |', '| — |')}

${int8 ? `The int8 variant's overall perplexity is ${((pplRatio! - 1) * 100).toFixed(2)}% ${pplRatio! >= 1 ? 'above' : 'below'} fp32's (the recipe keeps it only within 2%).` : 'No int8 variant: its perplexity was not within 2% of fp32.'}

## Loss curve

\`training/loss.jsonl\` (nats/token; validation on ${a.eval_windows} windows of ${a.seq} tokens, the last point on the whole validation stream):

| step | tokens | stage | learning rate | train loss | validation loss |
| ---: | ---: | ---: | ---: | ---: | ---: |
${curve.map((r) => `| ${r.step} | ${n(r.tokens)} | ${r.stage ?? 1} | ${r.lr ?? '—'} | ${r.train_loss?.toFixed(3) ?? '—'} | ${r.val_loss.toFixed(3)} |`).join('\n')}

## Reproduce

\`\`\`
apt-get install python3-torch libopenblas0-pthread   # Debian 12: torch 1.13
npm run train:reference-lm                           # scripts/train-lm/recipe.sh
\`\`\`

Tokenizer training and encoding (\`scripts/train-lm/prepare-data.ts\`, with the tokenizer library the engine uses),
training (\`scripts/train-lm/train.py\`, seeded: batch *s* is drawn from numpy's generator seeded with (seed, *s*)),
conversion to this directory (\`scripts/convert-llama2c.ts\`: ONNX graph and safetensors), int8 quantization
(\`scripts/quantize-int8.ts\`), evaluation (\`bench/heldout-bpb.ts\`) and this card. CPU float arithmetic is not
bit-reproducible across thread counts and machines; the numbers should agree to a few parts in a thousand.

## Licence

Weights: **CC BY-SA 4.0**, because the Stack Exchange posts in the training data are CC BY-SA (attribution: the
site and post id of every post are in the corpus ids; see MANIFEST.md); every other training source is public domain,
PDDL/CC0, MIT/Apache-2.0 or BSD-style. Code that produced it: tailguard's licence (MIT).
`;
}

function stageLine(t: TrainJson, i: number): string {
  const a = t.args;
  const schedule =
    a.schedule === 'wsd'
      ? `constant LR ${a.lr} after ${a.warmup} warm-up steps, linear decay to ${a.min_lr} over the last ${a.decay_steps} steps`
      : `peak LR ${a.lr}, ${a.warmup} warm-up steps, cosine to ${a.min_lr}`;
  return `${i > 0 ? 'warm start (fresh optimizer state), ' : ''}AdamW (β 0.9/0.95, weight decay ${a.weight_decay}), ${schedule}, gradient clip 1.0, ${a.dtype === 'bf16' ? 'bf16 autocast with fp32 weights' : 'fp32'}, batch ${a.batch} × ${a.seq}, seed ${a.seed}`;
}

/** The Hugging Face card metadata; the reference LM also declares its pipeline and language. */
function frontMatter(reference: boolean): string {
  return [
    '---',
    'license: cc-by-sa-4.0',
    'library_name: transformers.js',
    ...(reference ? ['pipeline_tag: text-generation', 'language:', '  - en'] : []),
    'tags:',
    '  - llama',
    '  - onnx',
    '  - tailguard',
    '---',
  ].join('\n');
}

/** The card of the sibling that serves as the Binoculars observer (a warm-started continuation of the model). */
export function observerCard(
  name: string,
  parent: string,
  train: TrainJson,
  ev: ModelEval | undefined,
  onnxBytes: number,
): string {
  return `${frontMatter(false)}

# ${name}

A sibling of [${parent}](../${parent}/README.md) from the same recipe (\`scripts/train-lm/recipe.sh\`): warm-started from its
weights and trained ${n(train.args.steps as number)} more steps on other windows of the same training data
(${stageLine(train, 1)}; ${n(train.tokens_seen)} tokens, ${(train.train_seconds / 60).toFixed(0)} min on ${train.hardware}).
Same tokenizer and shape; final validation loss ${train.final_val_loss.toFixed(3)} nats/token${ev ? `, ${ev.overall.bits_per_byte.toFixed(3)} bits/byte on \`heldout.jsonl\` (${parent}: see its card)` : ''}.

tailguard ships it as the **observer** of the Binoculars score (\`tailguard score --model ${parent} --observer-model ${name}\`): two
models of one tokenizer whose predictions differ enough for their cross-entropy to be informative. Only the fp32 ONNX
graph is kept (\`onnx/model.onnx\`, ${n(onnxBytes)} bytes); licence and data as in ${parent}'s card.
`;
}

function speedLine(fp32: ModelEval, int8: ModelEval | undefined): string {
  const tps = (e: ModelEval) =>
    Math.round(e.speed?.median_tokens_per_second ?? e.tokens_per_second).toLocaleString('en-US');
  const how = fp32.speed
    ? `median of ${fp32.speed.repeats} runs over the first 200 held-out documents cut to 2,000 characters, model load included`
    : 'one run over the whole file';
  return `CPU scoring speed with tailguard's engine (${how}, 2-core AMD EPYC): ${tps(fp32)} tokens/s fp32${int8 ? `, ${tps(int8)} tokens/s int8` : ''}.`;
}

const FILE_NOTES: Record<string, string> = {
  'onnx/model.onnx':
    'fp32 ONNX graph (optimum decoder-with-past interface; outputs logits, present.*, last_hidden_state); what tailguard loads by default',
  'onnx/model_quantized.onnx': 'dynamic int8 variant (`--onnx-file onnx/model_quantized.onnx`)',
  'model.safetensors': "the same fp32 checkpoint under transformers' LlamaForCausalLM names, for PyTorch tools",
  'config.json': 'LlamaForCausalLM config',
  'tokenizer.json': 'byte-level BPE (Hugging Face tokenizers format)',
  'training/loss.jsonl': 'training and validation loss curve',
  'zero-shot.json':
    "its fast_detect on every held-out document: `tailguard detect`'s human reference without --detector",
};

function main(): void {
  const flags = parseFlags(process.argv.slice(2), ['model', 'data', 'eval', 'stages', 'observer', 'observer-run']);
  if (!flags.model || !flags.data || !flags.eval) {
    throw new Error(
      'usage: write-card.ts --model DIR --data DIR --eval FILE [--stages run] [--observer DIR --observer-run observer]',
    );
  }
  const data = readJson<DataJson>(join(flags.data, 'data.json'));
  const stageDirs = (flags.stages ?? 'run').split(',');
  const stages = stageDirs.map((d) => readJson<TrainJson>(join(flags.data!, d, 'train.json')));
  const train = combineStages(stages);
  // One curve: each stage's rows after the tokens of the stages before it (a stage's step-0 row repeats the last one).
  const loss: LossRow[] = [];
  let offset = { steps: 0, tokens: 0 };
  stageDirs.forEach((d, i) => {
    const rows = readFileSync(join(flags.data!, d, 'loss.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LossRow);
    for (const r of rows)
      if (!(i > 0 && r.step === 0))
        loss.push({ ...r, step: r.step + offset.steps, tokens: r.tokens + offset.tokens, stage: i + 1 });
    offset = {
      steps: offset.steps + (stages[i]!.args.steps as number),
      tokens: offset.tokens + stages[i]!.tokens_seen,
    };
  });
  mkdirSync(join(flags.model, 'training'), { recursive: true });
  writeBytes(join(flags.model, 'training', 'loss.jsonl'), loss.map((r) => JSON.stringify(r)).join('\n') + '\n');
  let evals = readJson<ModelEval[]>(flags.eval);
  // The int8 variant ships only when its held-out perplexity is within 2% of fp32's.
  const fp32 = evals.find((e) => e.onnx.endsWith('model.onnx'));
  const int8 = evals.find((e) => e.onnx.endsWith('model_quantized.onnx'));
  if (!fp32) throw new Error(`${flags.eval} has no evaluation of onnx/model.onnx`);
  if (int8 && int8.overall.perplexity > 1.02 * fp32.overall.perplexity) {
    rmSync(join(flags.model, 'onnx', 'model_quantized.onnx'), { force: true });
    evals = [fp32];
    console.error(
      `int8 perplexity ${int8.overall.perplexity.toFixed(2)} is not within 2% of fp32's ${fp32.overall.perplexity.toFixed(2)}: removed the int8 variant`,
    );
  }
  const sizes: Record<string, number> = {};
  for (const f of Object.keys(FILE_NOTES)) {
    try {
      sizes[f] = statSync(join(flags.model, f)).size;
    } catch {
      /* not present (e.g. no int8 variant) */
    }
  }
  const name = basename(flags.model);
  let observer: { name: string; eval?: ModelEval } | undefined;
  if (flags.observer) {
    const obsName = basename(flags.observer);
    const obsEval = evals.find((e) => e.onnx.includes(`/${obsName}/`));
    observer = { name: obsName, eval: obsEval };
    const obsTrain = readJson<TrainJson>(join(flags.data, flags['observer-run'] ?? 'observer', 'train.json'));
    writeBytes(
      join(flags.observer, 'README.md'),
      observerCard(obsName, name, obsTrain, obsEval, statSync(join(flags.observer, 'onnx', 'model.onnx')).size),
    );
    console.log(`wrote ${join(flags.observer, 'README.md')}`);
  }
  writeBytes(
    join(flags.model, 'README.md'),
    modelCard(
      name,
      data,
      train,
      loss,
      evals.filter((e) => !observer || !e.onnx.includes(`/${observer.name}/`)),
      sizes,
      observer,
    ),
  );
  console.log(`wrote ${join(flags.model, 'README.md')}`);
}

runIfMain(import.meta.url, main);
