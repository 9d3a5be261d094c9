/** `tailguard status`: the CLI face of shardStatus. */
import { Command } from 'commander';
import { shardStatus } from '../score/shards/status.js';

interface StatusFlags {
  json?: boolean;
}

const list = (xs: number[]): string =>
  xs.length === 0 ? '-' : xs.length > 40 ? `${xs.slice(0, 40).join(', ')}, … (${xs.length})` : xs.join(', ');

export function statusCommand(setExitCode: (code: number) => void): Command {
  return new Command('status')
    .description(
      'Show which shards of a sharded score directory (the --out of `tailguard score --shard`) are done, started\n' +
        '(a checkpoint and no completion marker: running, or stopped and resumable) or missing, and how to rerun\n' +
        'every shard not done: a Slurm --array= list and the Kubernetes completion indexes. Rerun a started shard\n' +
        'only once its job has ended; two processes must never score one shard at once.\n\n' +
        'Exit status: 0 every shard done; 1 some shard not done; 2 not a sharded score directory.',
    )
    .argument('<dir>', 'sharded score directory')
    .option('--json', 'print the status as JSON on stdout')
    .action((dir: string, flags: StatusFlags) => {
      const s = shardStatus(dir);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      } else {
        const lines = [
          `${s.dir}: ${s.shards} shards: ${s.done.length} done, ${s.started.length} started, ${s.missing.length} missing`,
          `  started (running, or stopped and resumable): ${list(s.started)}`,
          `  missing: ${list(s.missing)}`,
        ];
        if (s.complete) {
          lines.push('  all done: `tailguard merge` it, or read it directly with detect, calibrate or compare');
        } else {
          lines.push(`  rerun with Slurm: sbatch --array=${s.rerunArray} (same script, same --shards ${s.shards})`);
          lines.push(`  rerun on Kubernetes: completion indexes ${s.rerunIndexes} (with --shards ${s.shards})`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      setExitCode(s.complete ? 0 : 1);
    });
}
