/**
 * The layout of a sharded score directory (docs/scale-out.md):
 *
 *   OUT/shards.json                      the manifest: shard count and the settings every shard must share
 *   OUT/shard-00003-of-00016/            shard 3 of 16: an ordinary score directory (scores.jsonl, embeddings.npy,
 *                                        errors.jsonl, run.json; checkpoint.json while it runs)
 *   OUT/shard-00003-of-00016/shard-done.json   the completion marker, written last
 *
 * A shard is done when its marker exists, started when its folder exists without one (a checkpoint: running, or
 * stopped and resumable), missing otherwise. This module only names and reads; it imports nothing from score/.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RunStateError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';

export const SHARD_FILES = { manifest: 'shards.json', done: 'shard-done.json', checkpoint: 'checkpoint.json' } as const;

/** Settings every shard of one sharded run shares: the run fingerprint without the shard's own number. */
export type SharedSettings = Record<string, string | number | null>;

export interface ShardManifest {
  format: 'tailguard-shards';
  version: 1;
  /** Number of shards. */
  shards: number;
  settings: SharedSettings;
}

/** The completion marker of one shard. */
export interface ShardDone {
  shard: number;
  of: number;
  counts: { input_rows: number; scored: number; errors: number };
  finished_at: string;
}

export type ShardState = 'done' | 'started' | 'missing';

export interface ShardEntry {
  index: number;
  dir: string;
  state: ShardState;
}

const pad = (n: number): string => String(n).padStart(5, '0');

/** `shard-00003-of-00016`. */
export function shardDirName(index: number, count: number): string {
  return `shard-${pad(index)}-of-${pad(count)}`;
}

const SHARD_DIR = /^shard-(\d{5,})-of-(\d{5,})$/;

export function isShardedDir(path: string): boolean {
  return existsSync(join(path, SHARD_FILES.manifest));
}

export function readManifest(root: string): ShardManifest | null {
  const path = join(root, SHARD_FILES.manifest);
  if (!existsSync(path)) return null;
  let m: ShardManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as ShardManifest;
  } catch (err) {
    throw new RunStateError(root, `${SHARD_FILES.manifest} is unreadable (${(err as Error).message})`);
  }
  if (m.format !== 'tailguard-shards' || m.version !== 1 || !Number.isSafeInteger(m.shards) || m.shards < 1) {
    throw new RunStateError(root, `${SHARD_FILES.manifest} is not a tailguard shard manifest (version 1)`);
  }
  return m;
}

/**
 * Records the shard count and shared settings, or checks them against the manifest already there: a shard with
 * another count, input or option is refused, naming what differs.
 */
export async function claimManifest(root: string, shards: number, settings: SharedSettings): Promise<void> {
  const existing = readManifest(root);
  if (existing) {
    if (existing.shards !== shards) {
      throw new RunStateError(
        root,
        `holds a run split into ${existing.shards} shards, and this one asks for ${shards}: give \`shard\` as I/${existing.shards}, or choose another \`out\``,
      );
    }
    const keys = new Set([...Object.keys(existing.settings), ...Object.keys(settings)]);
    const diffs = [...keys]
      .filter((k) => existing.settings[k] !== settings[k])
      .map((k) => `${k}: shards have ${String(existing.settings[k])}, this one ${String(settings[k])}`);
    if (diffs.length > 0)
      throw new RunStateError(
        root,
        `holds shards of a run with other settings (${diffs.join('; ')}): every shard must score the same input with the same options`,
      );
    return;
  }
  const manifest: ShardManifest = { format: 'tailguard-shards', version: 1, shards, settings };
  await writeFileAtomic(join(root, SHARD_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
}

export function readShardDone(dir: string): ShardDone | null {
  const path = join(dir, SHARD_FILES.done);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ShardDone;
  } catch (err) {
    throw new RunStateError(dir, `${SHARD_FILES.done} is unreadable (${(err as Error).message})`);
  }
}

export async function writeShardDone(dir: string, done: ShardDone): Promise<void> {
  await writeFileAtomic(join(dir, SHARD_FILES.done), `${JSON.stringify(done, null, 2)}\n`);
}

/** Every shard of a sharded directory, in order, with its state. Folders of another shard count are refused. */
export function shardEntries(root: string): { manifest: ShardManifest; shards: ShardEntry[] } {
  const manifest = readManifest(root);
  if (!manifest) throw new RunStateError(root, `is not a sharded score directory (no ${SHARD_FILES.manifest})`);
  const foreign = readdirSync(root).filter((name) => {
    const m = SHARD_DIR.exec(name);
    return m !== null && Number(m[2]) !== manifest.shards;
  });
  if (foreign.length > 0)
    throw new RunStateError(
      root,
      `holds folders of another shard count (${foreign.slice(0, 3).join(', ')}) beside a run of ${manifest.shards} shards`,
    );
  const shards = Array.from({ length: manifest.shards }, (_, index): ShardEntry => {
    const dir = join(root, shardDirName(index, manifest.shards));
    const state: ShardState = existsSync(join(dir, SHARD_FILES.done))
      ? 'done'
      : existsSync(dir)
        ? 'started'
        : 'missing';
    return { index, dir, state };
  });
  return { manifest, shards };
}

/** Shard numbers as a Slurm `--array` list: ranges joined by commas, e.g. `0-3,7,9-10`. */
export function arrayExpression(indexes: readonly number[]): string {
  const sorted = [...indexes].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
