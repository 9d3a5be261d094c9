/** `tailguard merge`: the CLI face of mergeShards. */
import { Command, Option } from 'commander';
import { mergeShards } from '../score/shards/merge.js';

interface MergeFlags {
  out: string;
  format: 'jsonl' | 'parquet';
  overwrite?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function mergeCommand(): Command {
  return new Command('merge')
    .description(
      'Merge the shards of a sharded score directory (the --out of `tailguard score --shard`) into one score\n' +
        'directory: scores.jsonl, embeddings.npy and errors.jsonl in input order, equal byte for byte to one\n' +
        'run of `tailguard score` over the whole input, and a run.json that records the merge. Streams with flat\n' +
        'memory. Refuses, naming them, while shards are not done.\n\n' +
        'Exit status: 0 merged; 2 not merged (shards not done, or not a sharded directory).',
    )
    .argument('<dir>', 'sharded score directory')
    .requiredOption('-o, --out <dir>', 'output directory for the merged score directory')
    .addOption(
      new Option('--format <format>', 'scores format: jsonl, or parquet (also writes scores.parquet)')
        .choices(['jsonl', 'parquet'])
        .default('jsonl'),
    )
    .option('--overwrite', 'replace a score directory already in --out')
    .option('--json', 'print the merged run.json to stdout')
    .option('-q, --quiet', 'no summary on stderr')
    .action(async (dir: string, flags: MergeFlags) => {
      const summary = await mergeShards({ dir, out: flags.out, format: flags.format, overwrite: flags.overwrite });
      if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      if (!flags.quiet) {
        process.stderr.write(
          `tailguard: merged ${summary.merged?.shards ?? 0} shards: ${summary.counts.scored} scored, ${summary.counts.errors} errors; outputs in ${summary.out}\n`,
        );
      }
    });
}
