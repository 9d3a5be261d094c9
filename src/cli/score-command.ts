/** `tailguard score`: the CLI face of scoreCorpus. */
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { parseShard, shardFromEnvironment, type ShardSpec } from '../score/shards/from-env.js';
import { readManifest, shardDirName } from '../score/shards/layout.js';
import { duplicateIdsWarning } from '../score/duplicate-ids.js';
import { exitCodeFor, scoreCorpus, type ScoreOptions } from '../score/score-corpus.js';
import { SIGNAL_DEFINITIONS } from '../signals/definitions.js';
import { numberAtLeast, positiveInt } from './option-parsers.js';
import { addScoringOptions, scoringProgress, scoringSettings, type ScoringFlags } from './scoring-options.js';

interface ScoreFlags extends ScoringFlags {
  out: string;
  format: 'jsonl' | 'parquet';
  workers: number;
  threads?: number;
  tokenizerWorkers: number;
  batchSize?: number;
  maxBatchTokens?: number;
  context?: number;
  stride?: number;
  chunkDocs: number;
  maxDocBytes?: number;
  overwrite?: boolean;
  checkpointSeconds: number;
  spans?: number;
  quiet?: boolean;
  json?: boolean;
  shard?: string;
  shards?: number;
}

/** --shard I/N, else the job array's environment (shard/from-env.ts), else none. */
function chooseShard(flags: ScoreFlags): ShardSpec | undefined {
  if (flags.shard !== undefined) {
    const spec = parseShard(flags.shard);
    if (flags.shards !== undefined && flags.shards !== spec.count)
      throw new UsageError(`\`shard\` ${flags.shard} and \`shards\` ${flags.shards} disagree on the shard count`);
    return { ...spec, source: `--shard ${flags.shard}` };
  }
  return shardFromEnvironment(process.env, {
    shards: flags.shards,
    knownCount: readManifest(resolve(flags.out))?.shards,
  });
}

export function scoreCommand(setExitCode: (code: number) => void): Command {
  return addScoringOptions(new Command('score'))
    .description(
      'Stream a corpus through a reference language model and write per-document scores and embeddings.\n\n' +
        'Writes to --out: scores.jsonl (id, line and the signals below; one row per scored document in input\n' +
        'order), embeddings.npy (float32 N×d, row i = scores row i), errors.jsonl (rows that could not be scored:\n' +
        'line, id, file, reason), run.json.\n' +
        'A killed run resumes when started again with the same command.\n' +
        'With --shard I/N (or in a Slurm job array, or a Kubernetes Indexed Job with --shards N) it scores only\n' +
        'shard I of N into --out/shard-0000I-of-0000N/; `tailguard status` and `tailguard merge` read the shards\n' +
        '(docs/scale-out.md).\n' +
        'With --id-field, ids that repeat are counted (run.json duplicate_ids) and get a WARNING on stderr, even with\n' +
        '--quiet; their rows are scored and written like any other.\n\n' +
        'Exit status: 0 every row scored; 1 some rows are in errors.jsonl; 2 the run could not be done;\n' +
        '130 interrupted (Ctrl-C/SIGTERM: progress saved, the same command resumes).',
    )
    .argument(
      '<input>',
      "JSONL (.jsonl, .jsonl.gz, .jsonl.zst), Parquet (.parquet), a directory of .txt files, or '-' (JSONL on stdin); " +
        "many JSONL/Parquet files as one corpus: a directory of them, a quoted glob ('data/*.parquet'), or @list.txt " +
        '(one path per line); their lines are numbered on across files (docs/scoring.md#inputs)',
    )
    .requiredOption('-o, --out <dir>', 'output directory')
    .addOption(
      new Option('--format <format>', 'scores format: jsonl, or parquet (also writes scores.parquet)')
        .choices(['jsonl', 'parquet'])
        .default('jsonl'),
    )
    .option('--workers <n>', 'inference workers, one ONNX Runtime session each', positiveInt('--workers'), 1)
    .option('--threads <n>', 'CPU threads per session (default: cores / workers)', positiveInt('--threads'))
    .option('--tokenizer-workers <n>', 'tokenizer threads', positiveInt('--tokenizer-workers'), 1)
    .option('--batch-size <n>', 'most windows per batch (default: 4 on CPU, 16 on GPU)', positiveInt('--batch-size'))
    .option(
      '--max-batch-tokens <n>',
      'most padded tokens per batch; bounds the batch × length × vocabulary memory (default: 2048 on CPU, 8192 on GPU, less for large vocabularies, at least the context)',
      positiveInt('--max-batch-tokens'),
    )
    .option('--context <n>', "tokens per window (default: the model's context length)", positiveInt('--context'))
    .option(
      '--stride <n>',
      'new tokens scored per window after the first, for documents longer than the context (default: context/2)',
      positiveInt('--stride'),
    )
    .option(
      '--chunk-docs <n>',
      'input lines (rows) per unit of work handed to a worker: lines kN+1..(k+1)N',
      positiveInt('--chunk-docs'),
      64,
    )
    .option(
      '--max-doc-bytes <n>',
      'larger documents are reported in errors.jsonl instead of scored (default 64 MiB)',
      positiveInt('--max-doc-bytes'),
    )
    .option(
      '--spans [tokens]',
      'add `spans` to every row: consecutive windows of this many tokens (default 64) with their text range [start, end), mean_nll and fast_detect',
      (v) => positiveInt('--spans')(v),
    )
    .option('--overwrite', "start over, replacing tailguard's files in --out (other files there are left alone)")
    .option(
      '--checkpoint-seconds <s>',
      'how often finished rows are made durable; a crash loses at most this much work',
      numberAtLeast('--checkpoint-seconds', 0),
      2,
    )
    .option(
      '--shard <I/N>',
      'score only shard I (0-based) of N, into --out/shard-0000I-of-0000N/ (default: from SLURM_ARRAY_TASK_ID, or JOB_COMPLETION_INDEX with --shards)',
    )
    .option(
      '--shards <n>',
      'shard count of a job array (Kubernetes Indexed Job, or a Slurm array rerunning some shards)',
      positiveInt('--shards'),
    )
    .option('-q, --quiet', 'no progress on stderr')
    .option('--json', 'print run.json to stdout when done')
    .addHelpText('after', `\n${SIGNAL_DEFINITIONS}`)
    .action(async (input: string, flags: ScoreFlags) => {
      const shard = chooseShard(flags);
      // Said even with --quiet: which shard a job array task took is what its log is read for.
      if (shard)
        process.stderr.write(
          `tailguard: shard ${shard.index} of ${shard.count} (${shard.source}) into ${join(resolve(flags.out), shardDirName(shard.index, shard.count))}\n`,
        );
      const { sink, onStart, onProgress } = scoringProgress(input, !!flags.quiet, { wholeInput: !shard });
      const options: ScoreOptions = {
        ...(shard ? { shard } : {}),
        ...scoringSettings(flags),
        input,
        out: flags.out,
        format: flags.format,
        workers: flags.workers,
        threads: flags.threads,
        tokenizerWorkers: flags.tokenizerWorkers,
        batchSize: flags.batchSize,
        maxBatchTokens: flags.maxBatchTokens,
        context: flags.context,
        stride: flags.stride,
        chunkDocs: flags.chunkDocs,
        spans: flags.spans === undefined ? undefined : typeof flags.spans === 'number' ? flags.spans : 64,
        maxDocBytes: flags.maxDocBytes,
        overwrite: flags.overwrite,
        checkpointIntervalMs: flags.checkpointSeconds * 1000,
        onStart,
        onProgress,
      };
      // First Ctrl-C (or SIGTERM): finish the chunks in flight, checkpoint, exit 130. Second: exit now.
      const stop = new AbortController();
      const onSignal = (): void => {
        if (stop.signal.aborted) process.exit(130);
        sink.stop();
        process.stderr.write(
          'tailguard: stopping after the chunks in flight (press Ctrl-C again to quit at once; the last checkpoint is kept)\n',
        );
        stop.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      options.signal = stop.signal;
      try {
        const summary = await scoreCorpus(options);
        sink.stop();
        if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        // Printed even with --quiet: rows keyed by a repeated id would be mis-joined downstream.
        const repeats = duplicateIdsWarning(summary.duplicate_ids);
        if (repeats) process.stderr.write(`tailguard: WARNING: ${repeats}\n`);
        if (!flags.quiet) {
          process.stderr.write(
            `tailguard: done: ${summary.counts.scored} scored, ${summary.counts.errors} errors, ${Math.round(summary.tokens_per_second)} tok/s on ${summary.device.used}; outputs in ${summary.out}\n`,
          );
        }
        setExitCode(exitCodeFor(summary));
      } finally {
        sink.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
