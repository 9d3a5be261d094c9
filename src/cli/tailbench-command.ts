/** `tailguard tailbench`: the CLI face of tailbench. */
import { Command, Option } from 'commander';
import { DEFAULT_MODEL } from '../lm/model-dir.js';
import type { MeanStat } from '../tailbench/bench-stats.js';
import type { TailbenchReport } from '../tailbench/report.js';
import { tailbench } from '../tailbench/tailbench.js';
import { EXIT_CHECK_FAILED, numberAtLeast, positiveInt } from './option-parsers.js';
import { scoringProgress } from './scoring-options.js';

interface TailbenchFlags {
  model: string;
  onnxFile?: string;
  textField?: string;
  idField?: string;
  device: 'auto' | 'cpu' | 'cuda' | 'webgpu';
  cacheDir?: string;
  offline?: boolean;
  anchor: string;
  coverage: string;
  out?: string;
  ledger?: string;
  generation?: string;
  z: number;
  resamples: number;
  seed: number;
  failOnTailLoss?: boolean;
  json?: boolean;
  quiet?: boolean;
}

const num = (x: number | null) => (x === null ? '—' : x.toFixed(4));
const stat = (s: MeanStat | null) =>
  s === null ? '—' : `${num(s.mean)} [${num(s.lo)}, ${num(s.hi)}] (${s.docs} docs)`;

/** The summary on stderr, one finding a line. */
export function tailbenchSummary(r: TailbenchReport): string[] {
  const lines = [
    `${r.model.ref} on the anchor ${r.anchor.path}: ${r.documents.matched} of ${r.coverage.reference_documents} reference documents, bits per byte (±${r.z} SE)`,
    ...r.regions.map(
      (g) =>
        `  #${g.region}${g.tail ? ' tail' : ''}${g.label ? ` (${g.label})` : ''} ${g.status}: ${stat(g.bits_per_byte)}`,
    ),
    `tail ${stat(r.tail)}; head ${stat(r.head)}`,
    `gap tail − head ${r.gap ? `${num(r.gap.value)} [${num(r.gap.lo)}, ${num(r.gap.hi)}] (bootstrap within regions, ${(100 * r.confidence).toFixed(1)}%)` : '—'}`,
  ];
  if (r.ledger)
    lines.push(
      `ledger ${r.ledger.path}: tail / head bits per byte over generations ${r.ledger.generations.map((g) => `${g.generation} ${num(g.tail)} / ${num(g.head)}`).join(', ')}`,
    );
  if (r.outputs) lines.push(`wrote ${r.outputs.report}, ${r.outputs.documents}`);
  return lines;
}

export function tailbenchCommand(setExitCode: (code: number) => void): Command {
  const cmd = new Command('tailbench')
    .summary("a model's bits per byte on the anchor's tail regions vs its head, across generations")
    .description(
      "How a model (one generation's model directory) does on the anchor's tails: its bits per byte on the anchor\n" +
        "documents of a coverage run's tail regions (thin or absent in the candidate) against the other regions (the\n" +
        'head), with intervals; across generations in a ledger, an alarm when the tail degrades while the head holds.\n\n' +
        "ANCHOR is the corpus the coverage run's reference was scored from, or a score directory of it (read as it is\n" +
        'when it was scored by --model, else its corpus is scored again). The anchor is scored with --model into\n' +
        "OUT/anchor-scores (resumable), each document's bits per byte = mean_nll · tokens / (ln 2 · UTF-8 bytes)\n" +
        '(comparable across tokenizers) joined by id to its region in COVERAGE/reference.jsonl. Per region: the mean\n' +
        'and mean ± z·SE; tail and head: pooled means with stratified SEs; the gap tail − head: a percentile bootstrap\n' +
        'resampling documents within each region, at the confidence 2Φ(z) − 1. Writes OUT/report.json (also nats\n' +
        'per token) and OUT/documents.jsonl and .parquet (every reference document: region, region_label, tail,\n' +
        'tokens, bytes, mean_nll, bits_per_byte; null when not scored).\n\n' +
        'With --ledger and --generation the generation is recorded and compared with the previous and the first:\n' +
        'the alarm fires when the tail mean rose by more than z·SE (SE = √(se_then² + se_now²)) while the head did not\n' +
        '(its rise, less z·SE, is ≤ 0). Exit status: 0 done (the alarm is a warning); 2 could not run (bad options or\n' +
        'input: the message names the file); 3 --fail-on-tail-loss and the alarm fired.',
    )
    .requiredOption('--anchor <path>', "the human anchor: the coverage reference's corpus, or a score directory of it")
    .requiredOption('--coverage <dir>', 'a `tailguard coverage` output directory whose reference is the anchor')
    .option('-o, --out <dir>', 'output directory (report.json, documents.jsonl and .parquet, anchor-scores/)')
    .option('--ledger <file>', "tailbench ledger (JSON) to record this generation in; created if it doesn't exist")
    .option('--generation <name>', 'name of this generation in the ledger')
    .option('--z <z>', 'intervals are ±z standard errors (the bootstrap at 2Φ(z) − 1)', numberAtLeast('--z', 0), 1.96)
    .option('--resamples <n>', "bootstrap resamples for the gap's interval", positiveInt('--resamples'), 1000)
    .option('--seed <n>', 'bootstrap seed', positiveInt('--seed'), 1)
    .option('--fail-on-tail-loss', 'exit 3 when the alarm fires (the tail degrades while the head holds)')
    .option('-m, --model <model>', 'the model under test: model directory, bundled model name or hub id', DEFAULT_MODEL)
    .option('--onnx-file <path>', 'ONNX graph inside the model directory (default: onnx/model.onnx)')
    .option('--text-field <name>', "the anchor's text field (default: the coverage reference's, else text)")
    .option('--id-field <name>', "the anchor's id field (default: the coverage reference's, else the line number)")
    .addOption(
      new Option('--device <device>', 'execution provider; auto = CUDA when installed and a GPU is visible, else CPU')
        .choices(['auto', 'cpu', 'cuda', 'webgpu'])
        .default('auto'),
    )
    .option('--cache-dir <dir>', 'hub model cache (default: $TAILGUARD_CACHE or ~/.cache/tailguard/hub)')
    .option('--offline', 'never download models (also: HF_HUB_OFFLINE=1)')
    .option('--json', 'print report.json to stdout')
    .option('-q, --quiet', 'no summary on stderr');
  return cmd.action(async (flags: TailbenchFlags) => {
    const { sink, ...progress } = scoringProgress(flags.anchor, flags.quiet === true);
    const scoring = {
      onnxFile: flags.onnxFile,
      textField: flags.textField,
      idField: flags.idField,
      device: flags.device,
      cacheDir: flags.cacheDir,
      offline: flags.offline,
    };
    const report = await tailbench({
      model: flags.model,
      anchor: flags.anchor,
      coverage: flags.coverage,
      out: flags.out,
      ledger: flags.ledger,
      generation: flags.generation,
      z: flags.z,
      resamples: flags.resamples,
      seed: flags.seed,
      scoring: { ...scoring, ...progress },
    }).finally(() => sink.stop());
    if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (!flags.quiet)
      process.stderr.write(
        tailbenchSummary(report)
          .map((l) => `tailguard: ${l}\n`)
          .join(''),
      );
    // Said even with --quiet: a model losing the tails must not pass silently.
    for (const w of report.warnings) process.stderr.write(`tailguard: WARNING: ${w}\n`);
    for (const reason of report.alarm.reasons)
      process.stderr.write(`tailguard: ${flags.failOnTailLoss ? 'CHECK FAILED' : 'ALARM'}: ${reason}\n`);
    setExitCode(flags.failOnTailLoss && report.alarm.fired ? EXIT_CHECK_FAILED : 0);
  });
}
