/** `shardStatus`: which shards of a sharded score directory are done, started or missing, and how to rerun the rest. */
import { resolve } from 'node:path';
import { arrayExpression, shardEntries, type ShardState } from './layout.js';

export interface ShardStatus {
  dir: string;
  shards: number;
  done: number[];
  /** A folder without a completion marker: running now, or stopped (its checkpoint resumes it). */
  started: number[];
  missing: number[];
  /** Every shard not done, as a Slurm `--array=` list (`0-3,7`); empty when all are done. */
  rerunArray: string;
  /** The same shards as Kubernetes completion indexes, comma-separated. */
  rerunIndexes: string;
  complete: boolean;
}

export function shardStatus(dir: string): ShardStatus {
  const root = resolve(dir);
  const { manifest, shards } = shardEntries(root);
  const by = (state: ShardState) => shards.filter((s) => s.state === state).map((s) => s.index);
  const notDone = shards.filter((s) => s.state !== 'done').map((s) => s.index);
  return {
    dir: root,
    shards: manifest.shards,
    done: by('done'),
    started: by('started'),
    missing: by('missing'),
    rerunArray: arrayExpression(notDone),
    rerunIndexes: notDone.join(','),
    complete: notDone.length === 0,
  };
}
