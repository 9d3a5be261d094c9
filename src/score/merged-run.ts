/**
 * The run.json of a sharded run read or merged as one: the shards' summaries combined. Counts, tokens and attempts
 * are sums; wall_seconds is the sum of the shards' times (machine time, not elapsed time); repeated ids are those
 * each shard found within itself (a repeat across two shards is not counted); device.shards lists each shard's device,
 * inference workers and CUDA_VISIBLE_DEVICES (one process per GPU: docs/scale-out.md).
 */
import { TailguardError } from '../errors.js';
import type { RunSummary } from './score-corpus.js';

export function mergedRun(runs: readonly RunSummary[], dir: string): RunSummary {
  const first = runs[0];
  if (!first) throw new TailguardError(`${dir}: no shards to combine`);
  const { shard: _shard, ...options } = first.options;
  for (const r of runs) {
    const { shard: _s, ...o } = r.options;
    const diff = Object.keys({ ...o, ...options }).filter(
      (k) => k !== 'workers' && k !== 'threads' && o[k] !== options[k],
    );
    if (diff.length > 0 || r.model.hidden_size !== first.model.hidden_size) {
      throw new TailguardError(
        `${dir}: shard ${r.shard?.index ?? '?'} was scored with other settings (${diff.join(', ') || 'model'}) than shard ${first.shard?.index ?? 0}`,
      );
    }
  }
  const sum = (f: (r: RunSummary) => number) => runs.reduce((a, r) => a + f(r), 0);
  const counts = {
    input_rows: sum((r) => r.counts.input_rows),
    scored: sum((r) => r.counts.scored),
    errors: sum((r) => r.counts.errors),
  };
  const tokens = sum((r) => r.tokens);
  const wall = sum((r) => r.wall_seconds);
  const examples = runs.flatMap((r) => r.duplicate_ids.examples).slice(0, 5);
  const { shard: _omit, ...rest } = first;
  return {
    ...rest,
    out: dir,
    options,
    device: {
      ...first.device,
      shards: runs.map((r, i) => ({
        shard: r.shard?.index ?? i,
        used: r.device.used,
        ...(r.device.workers ? { workers: r.device.workers } : {}),
        cuda_visible_devices: r.device.cuda_visible_devices ?? null,
      })),
    },
    counts,
    duplicate_ids: {
      ...first.duplicate_ids,
      count: sum((r) => r.duplicate_ids.count),
      examples,
      first: runs.find((r) => r.duplicate_ids.first)?.duplicate_ids.first ?? null,
    },
    tokens,
    wall_seconds: wall,
    tokens_per_second: tokens / Math.max(wall, 1e-9),
    docs_per_second: counts.scored / Math.max(wall, 1e-9),
    attempts: sum((r) => r.attempts),
    finished_at: runs
      .map((r) => r.finished_at)
      .sort()
      .at(-1)!,
    merged: { shards: runs.length },
  };
}
