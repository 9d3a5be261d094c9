/**
 * Crash-safe progress of a scoring run. Outputs are appended to `*.partial` files; after every few
 * seconds' worth of chunks they are flushed to disk and this record of their committed sizes is
 * replaced atomically. A restarted run truncates the partial files back to those sizes and skips the
 * input rows already accounted for, so it ends with exactly the outputs of an uninterrupted run.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RunStateError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { IdRepeatState } from './duplicate-ids.js';
import type { WorkerDevice } from './pools.js';

export const CHECKPOINT_FILE = 'checkpoint.json';

export interface Counters {
  /** Input rows consumed (documents and bad rows). */
  records: number;
  scored: number;
  errors: number;
  tokens: number;
}

export interface Checkpoint {
  version: 1;
  /** Everything that decides the outputs; a resume must match it. */
  fingerprint: Record<string, string | number | null>;
  counters: Counters;
  scoresBytes: number;
  errorsBytes: number;
  /** Repeated ids among the rows written so far, and the committed size of their hash log; absent without an id field. */
  idRepeats?: IdRepeatState;
  /** Wall time spent by earlier attempts. */
  elapsedMs: number;
  /** Set once the input is exhausted; what is left is renaming and writing run.json. */
  inputDone: boolean;
  attempts: number;
  device: string;
  fallbackReasons: string[];
  /** The last attempt's inference workers: execution provider and device id of each (absent before they started). */
  workers?: WorkerDevice[];
  /** CUDA_VISIBLE_DEVICES of the last attempt (null when unset). */
  cudaVisibleDevices?: string | null;
}

export function readCheckpoint(outDir: string): Checkpoint | null {
  const path = join(outDir, CHECKPOINT_FILE);
  if (!existsSync(path)) return null;
  let cp: Checkpoint;
  try {
    cp = JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
  } catch (err) {
    throw new RunStateError(
      outDir,
      `${CHECKPOINT_FILE} is unreadable (${(err as Error).message}); remove the directory or pass \`overwrite\``,
    );
  }
  if (cp.version !== 1) throw new RunStateError(outDir, `${CHECKPOINT_FILE} has unknown version ${String(cp.version)}`);
  return cp;
}

export async function writeCheckpoint(outDir: string, cp: Checkpoint): Promise<void> {
  await writeFileAtomic(join(outDir, CHECKPOINT_FILE), JSON.stringify(cp, null, 1));
}

export function removeCheckpoint(outDir: string): void {
  rmSync(join(outDir, CHECKPOINT_FILE), { force: true });
}

/** Throws with every option that differs between the interrupted run and this one. */
export function assertSameRun(
  outDir: string,
  previous: Checkpoint['fingerprint'],
  current: Checkpoint['fingerprint'],
): void {
  const keys = new Set([...Object.keys(previous), ...Object.keys(current)]);
  const diffs = [...keys]
    .filter((k) => previous[k] !== current[k])
    .map((k) => `${k}: was ${String(previous[k])}, now ${String(current[k])}`);
  if (diffs.length > 0) {
    throw new RunStateError(
      outDir,
      `holds an interrupted run with other settings (${diffs.join('; ')}). Re-run with the same options to resume, or pass \`overwrite\` to start over.`,
    );
  }
}
