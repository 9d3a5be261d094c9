/**
 * Held-out evaluation of a reference LM with tailguard's own scoring engine (not the training code):
 * bits per byte per source of ../shared/corpora/human/heldout.jsonl and overall, Σ NLL / (ln 2 · Σ UTF-8 bytes),
 * where Σ NLL runs over every token of every document, each predicted from the document-start token onwards
 * (windowed with the engine's default stride where a document exceeds the context). Also token-level perplexity and
 * the engine's CPU tokens/s over the whole file.
 *
 *   node --import tsx bench/heldout-bpb.ts --model models/NAME [--model models/NAME:onnx/model_quantized.onnx]
 *        [--heldout ../shared/corpora/human/heldout.jsonl] [--json bench/results/NAME-heldout.json] [--zero-shot models/NAME]
 *        [--speed N]   (N rounds of a CPU speed comparison of the models on a fixed slice: medians)
 *        [--keep-scores DIR]   (keep the first model's score run in DIR, e.g. for bench/detect-eval.ts)
 *
 * --zero-shot DIR writes DIR/zero-shot.json: the first model's fast_detect on every held-out document, the human
 * reference that `tailguard detect` uses without --detector.
 *
 * Prints a markdown table per model to stdout; --json writes the numbers for the model card.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { scoreCorpus, ZERO_SHOT_FILE, type ZeroShotReference } from '../src/index.js';
import { runIfMain } from '../scripts/lib/files.js';
import { TRAINING_SOURCES } from '../scripts/train-lm/sources.js';

export interface SourceEval {
  source: string;
  trained_on: boolean;
  docs: number;
  bytes: number;
  tokens: number;
  nll: number;
  bits_per_byte: number;
  perplexity: number;
}

export interface ModelEval {
  model: string;
  onnx: string;
  device: string;
  tokens_per_second: number;
  wall_seconds: number;
  overall: SourceEval;
  trained_sources: SourceEval;
  unseen_sources: SourceEval;
  sources: SourceEval[];
  /** CPU speed rounds on a fixed slice (--speed). */
  speed?: { median_tokens_per_second: number; min: number; max: number; repeats: number; slice_tokens: number };
  /** Every held-out document's fast_detect, for the model's zero-shot reference (not written to the JSON). */
  fast_detect?: number[];
}

function summarise(
  source: string,
  rows: { bytes: number; tokens: number; nll: number }[],
  trained: boolean,
): SourceEval {
  const bytes = rows.reduce((a, r) => a + r.bytes, 0);
  const tokens = rows.reduce((a, r) => a + r.tokens, 0);
  const nll = rows.reduce((a, r) => a + r.nll, 0);
  return {
    source,
    trained_on: trained,
    docs: rows.length,
    bytes,
    tokens,
    nll,
    bits_per_byte: nll / (Math.LN2 * bytes),
    perplexity: Math.exp(nll / tokens),
  };
}

/** `keep`: score into this directory and keep it (bench/detect-eval.ts reuses it), instead of a temporary one. */
export async function evaluateHeldout(
  model: string,
  heldout: string,
  onnxFile?: string,
  keep?: string,
): Promise<ModelEval> {
  const docs = new Map<string, { source: string; bytes: number }>();
  for (const line of readFileSync(heldout, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as { id: string; source: string; text: string };
    docs.set(row.id, { source: row.source, bytes: Buffer.byteLength(row.text, 'utf8') });
  }
  const out = keep ?? mkdtempSync(join(tmpdir(), 'tailguard-bpb-'));
  if (keep) rmSync(keep, { recursive: true, force: true });
  try {
    const run = await scoreCorpus({ input: heldout, out, model, onnxFile, idField: 'id', format: 'jsonl' });
    if (run.counts.errors > 0)
      throw new Error(`${run.counts.errors} held-out documents failed to score (see ${out}/errors.jsonl)`);
    const bySource = new Map<string, { bytes: number; tokens: number; nll: number }[]>();
    const fastDetect: number[] = [];
    for (const line of readFileSync(join(out, 'scores.jsonl'), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const s = JSON.parse(line) as { id: string; tokens: number; mean_nll: number; fast_detect: number };
      fastDetect.push(s.fast_detect);
      const doc = docs.get(s.id);
      if (!doc) throw new Error(`scores.jsonl has an id not in ${heldout}: ${s.id}`);
      const list = bySource.get(doc.source) ?? [];
      list.push({ bytes: doc.bytes, tokens: s.tokens, nll: s.mean_nll * s.tokens });
      bySource.set(doc.source, list);
    }
    const sources = [...bySource.entries()]
      .map(([source, rows]) => summarise(source, rows, source in TRAINING_SOURCES))
      .sort((a, b) => Number(b.trained_on) - Number(a.trained_on) || b.bytes - a.bytes);
    const all = [...bySource.entries()];
    const pool = (pred: (s: string) => boolean) => all.filter(([s]) => pred(s)).flatMap(([, r]) => r);
    return {
      model,
      onnx: run.model.onnx,
      device: run.device.used,
      tokens_per_second: run.tokens_per_second,
      wall_seconds: run.wall_seconds,
      overall: summarise(
        'all',
        pool(() => true),
        false,
      ),
      trained_sources: summarise(
        'trained-on sources',
        pool((s) => s in TRAINING_SOURCES),
        true,
      ),
      unseen_sources: summarise(
        'unseen sources',
        pool((s) => !(s in TRAINING_SOURCES)),
        false,
      ),
      sources,
      fast_detect: fastDetect,
    };
  } finally {
    if (!keep) rmSync(out, { recursive: true, force: true });
  }
}

export function markdownTable(e: ModelEval): string {
  const f = (x: number, d: number) => x.toFixed(d);
  const row = (s: SourceEval) =>
    `| ${s.source} | ${s.trained_on ? 'yes' : 'no'} | ${s.docs} | ${s.bytes.toLocaleString('en-US')} | ${f(s.bytes / s.tokens, 2)} | ${f(s.perplexity, 1)} | ${f(s.bits_per_byte, 3)} |`;
  return [
    `| source | trained on | docs | bytes | bytes/token | token ppl | bits/byte |`,
    `| --- | --- | ---: | ---: | ---: | ---: | ---: |`,
    ...e.sources.map(row),
    row({ ...e.trained_sources, source: '**trained-on sources**' }),
    row({ ...e.unseen_sources, source: '**unseen sources**' }),
    row({ ...e.overall, source: '**all**', trained_on: false }).replace('| no |', '| — |'),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', multiple: true },
      heldout: { type: 'string', default: '../shared/corpora/human/heldout.jsonl' },
      json: { type: 'string' },
      'zero-shot': { type: 'string' },
      speed: { type: 'string', default: '0' },
      'keep-scores': { type: 'string' },
    },
  });
  const results: ModelEval[] = [];
  for (const spec of values.model ?? []) {
    const [model, onnxFile] = spec.split(':') as [string, string | undefined];
    console.error(`scoring ${values.heldout} with ${spec}`);
    const e = await evaluateHeldout(
      model,
      values.heldout!,
      onnxFile,
      results.length === 0 ? values['keep-scores'] : undefined,
    );
    results.push(e);
    console.log(
      `### ${spec} (${e.onnx.replace(/.*\/models\//, 'models/')}, ${e.device}: ${Math.round(e.tokens_per_second)} tok/s)\n\n${markdownTable(e)}\n`,
    );
  }
  const repeats = Number(values.speed);
  const speed = repeats > 0 ? await speedRuns(values.model ?? [], values.heldout!, repeats) : undefined;
  if (speed) console.log(speed.markdown);
  if (values.json) {
    const rows = results.map(({ fast_detect: _, ...r }, i) => ({
      ...r,
      ...(speed ? { speed: speed.perModel[i] } : {}),
    }));
    writeFileSync(values.json, JSON.stringify(rows, null, 2) + '\n');
  }
  // The first model's held-out fast_detect scores become its human reference for `detect`'s zero-shot default.
  if (values['zero-shot'] && results[0]?.fast_detect) {
    const ref: ZeroShotReference = {
      signal: 'fast_detect',
      source: `${results[0].fast_detect.length} documents of ../shared/corpora/human/heldout.jsonl (17 sources of human-written pre-2020 English)`,
      human_scores: [...results[0].fast_detect].sort((a, b) => a - b),
    };
    writeFileSync(join(values['zero-shot'], ZERO_SHOT_FILE), JSON.stringify(ref) + '\n');
  }
}

/**
 * CPU scoring speed: `repeats` rounds over a fixed slice (the first 200 held-out documents, each cut to 2,000
 * characters), every model once per round in turn, so that the shared machine's slow phases hit all of them;
 * tokens/s = scored tokens / scoreCorpus's wall time (model load included). Medians, with min–max.
 */
async function speedRuns(
  specs: string[],
  heldout: string,
  repeats: number,
): Promise<{
  markdown: string;
  perModel: { median_tokens_per_second: number; min: number; max: number; repeats: number; slice_tokens: number }[];
}> {
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-speed-'));
  try {
    const slice = join(dir, 'slice.jsonl');
    const lines = readFileSync(heldout, 'utf8').split('\n').filter(Boolean).slice(0, 200);
    writeFileSync(
      slice,
      lines
        .map((l) => {
          const r = JSON.parse(l) as { id: string; text: string };
          return JSON.stringify({ id: r.id, text: r.text.slice(0, 2000) });
        })
        .join('\n') + '\n',
    );
    const runs: number[][] = specs.map(() => []);
    let tokens = 0;
    for (let rep = 0; rep < repeats; rep++) {
      for (const [i, spec] of specs.entries()) {
        const [model, onnxFile] = spec.split(':') as [string, string | undefined];
        const out = join(dir, `run-${rep}-${i}`);
        const s = await scoreCorpus({ input: slice, out, model, onnxFile, idField: 'id', device: 'cpu' });
        runs[i]!.push(s.tokens_per_second);
        tokens = s.tokens;
        rmSync(out, { recursive: true, force: true });
      }
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    const perModel = runs.map((r) => ({
      median_tokens_per_second: median(r),
      min: Math.min(...r),
      max: Math.max(...r),
      repeats,
      slice_tokens: tokens,
    }));
    const markdown = [
      `CPU scoring speed (${repeats} rounds, ${tokens.toLocaleString('en-US')} tokens per run):`,
      '',
      '| model | tok/s (median) | min–max |',
      '| --- | ---: | --- |',
      ...specs.map(
        (s, i) =>
          `| ${s} | ${Math.round(perModel[i]!.median_tokens_per_second).toLocaleString('en-US')} | ${Math.round(perModel[i]!.min).toLocaleString('en-US')}–${Math.round(perModel[i]!.max).toLocaleString('en-US')} |`,
      ),
    ].join('\n');
    return { markdown, perModel };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, main);
