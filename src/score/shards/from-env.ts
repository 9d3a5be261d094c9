/**
 * Which shard this process scores: `shard` I/N given outright, or taken from the job array that started it.
 *
 *   Slurm job arrays       I = SLURM_ARRAY_TASK_ID (arrays are 0-based: --array=0-(N-1)); N = `shards` if given,
 *                          else the count of an existing sharded output, else SLURM_ARRAY_TASK_COUNT, else
 *                          SLURM_ARRAY_TASK_MAX+1 (when SLURM_ARRAY_TASK_MIN is 0).
 *   Kubernetes Indexed Job I = JOB_COMPLETION_INDEX; N = `shards` (or the count of an existing sharded output).
 *
 * A rerun of some shards (`--array=3,7`) is an array of its own whose count says nothing about N: N then comes
 * from `shards` or from the output directory's manifest, and an index that does not fit is refused with that advice.
 */
import { UsageError } from '../../errors.js';

export interface ShardSpec {
  /** 0-based shard number, < count. */
  index: number;
  count: number;
  /** Where index and count came from, for run.json and messages (default: "the `shard` option"). */
  source?: string;
}

/** `3/16` → shard 3 of 16. */
export function parseShard(text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new UsageError(`\`shard\` must be I/N, shard I (0-based) of N (got ${JSON.stringify(text)})`);
  const spec = { index: Number(m[1]), count: Number(m[2]) };
  if (spec.count < 1 || spec.index >= spec.count)
    throw new UsageError(`\`shard\` ${text}: I must be in 0..N-1 and N at least 1`);
  return spec;
}

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v.trim())) throw new UsageError(`${name}=${v} is not a non-negative integer`);
  return Number(v);
}

/**
 * The shard named by a job array's environment, or undefined outside one. `shards` is the `shards` option;
 * `knownCount` the shard count of the output directory, when it already holds a sharded run.
 */
export function shardFromEnvironment(
  env: NodeJS.ProcessEnv,
  opts: { shards?: number; knownCount?: number } = {},
): ShardSpec | undefined {
  const slurmId = envInt(env, 'SLURM_ARRAY_TASK_ID');
  const k8sIndex = envInt(env, 'JOB_COMPLETION_INDEX');
  const given =
    opts.shards !== undefined
      ? { n: opts.shards, why: `shards=${opts.shards}` }
      : opts.knownCount !== undefined
        ? { n: opts.knownCount, why: `the ${opts.knownCount} shards already in the output directory` }
        : undefined;
  let spec: ShardSpec;
  if (slurmId !== undefined) {
    const count = envInt(env, 'SLURM_ARRAY_TASK_COUNT');
    const min = envInt(env, 'SLURM_ARRAY_TASK_MIN');
    const max = envInt(env, 'SLURM_ARRAY_TASK_MAX');
    const fromArray =
      count !== undefined
        ? { n: count, why: `SLURM_ARRAY_TASK_COUNT=${count}` }
        : max !== undefined && min === 0
          ? { n: max + 1, why: `SLURM_ARRAY_TASK_MAX=${max}` }
          : undefined;
    // The output's own count wins over the array's (a rerun of some shards is a smaller array); cite the array when they agree.
    const n = opts.shards === undefined && given && fromArray?.n === given.n ? fromArray : (given ?? fromArray);
    if (!n)
      throw new UsageError(
        `SLURM_ARRAY_TASK_ID=${slurmId} names the shard, but nothing gives the shard count: pass \`shards\` N`,
      );
    spec = { index: slurmId, count: n.n, source: `SLURM_ARRAY_TASK_ID=${slurmId}, shard count from ${n.why}` };
    if (slurmId >= n.n) {
      throw new UsageError(
        `SLURM_ARRAY_TASK_ID=${slurmId} is not a shard of ${n.n} (from ${n.why}): Slurm arrays are 0-based (0-${n.n - 1}), and a rerun of some shards must pass \`shards\` N`,
      );
    }
  } else if (k8sIndex !== undefined) {
    if (!given)
      throw new UsageError(
        `JOB_COMPLETION_INDEX=${k8sIndex} names the shard; pass \`shards\` N (the Job's completions) for the shard count`,
      );
    spec = {
      index: k8sIndex,
      count: given.n,
      source: `JOB_COMPLETION_INDEX=${k8sIndex}, shard count from ${given.why}`,
    };
    if (k8sIndex >= given.n)
      throw new UsageError(`JOB_COMPLETION_INDEX=${k8sIndex} is not a shard of ${given.n} (from ${given.why})`);
  } else {
    if (opts.shards !== undefined)
      throw new UsageError(
        '`shards` gives the shard count of a job array, and neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set: pass `shard` I/N instead',
      );
    return undefined;
  }
  if (spec.count < 1) throw new UsageError(`the shard count must be at least 1 (${spec.source})`);
  return spec;
}
