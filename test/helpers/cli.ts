/**
 * The tailguard CLI as the tests run it, and JSONL read and written as they check it. Not a test file: vitest runs only
 * files named *.test.ts.
 *
 * - `runCli(args, opts)` runs `node --import tsx src/cli/run.ts ...args` synchronously from the repository root
 *   (or `opts.cwd`) and returns spawnSync's result with stdout and stderr as strings. The child's environment is
 *   this process's with `COLUMNS=80`, then `opts.env` on top (a key set to undefined there is left out). COLUMNS
 *   changes nothing today (commander reads the width of a TTY only, and the children write to pipes); it pins help
 *   text to 80 columns should that change. `opts.input` is written to the child's stdin; `opts.timeout` (ms) kills
 *   it, as spawnSync does.
 * - `setArgs(dir, sets)` is the `--reference … --candidate … --out … [--clusters k]` part of a coverage or weights
 *   command line, each path a name joined onto dir (so an absolute name would not stand as given).
 * - `readJsonl(path)` parses each non-blank line of a JSONL file; `toJsonl(rows)` is one JSON line per row joined by
 *   newlines, plus a final newline; `writeJsonl(path, rows)` writes that text.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root. */
export const ROOT = join(import.meta.dirname, '..', '..');

export type RunCliOptions = {
  /** Written to the child's stdin. */
  input?: string;
  /** Set on top of process.env and COLUMNS=80; undefined values remove a variable. */
  env?: NodeJS.ProcessEnv;
  /** The working directory; ROOT when not given. */
  cwd?: string;
  /** Milliseconds before the child is killed. */
  timeout?: number;
};

export function runCli(args: string[], opts: RunCliOptions = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'run.ts'), ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    env: { ...process.env, COLUMNS: '80', ...opts.env },
    ...(opts.input === undefined ? {} : { input: opts.input }),
    ...(opts.timeout === undefined ? {} : { timeout: opts.timeout }),
  });
}

export type SetNames = {
  /** Under dir; 'ref.npy' when not given. */
  reference?: string;
  /** Under dir; 'cand.npy' when not given. */
  candidate?: string;
  /** Under dir; 'out' when not given. */
  out?: string;
  /** `--clusters`, left off when not given. */
  clusters?: number;
};

/** `--reference`, `--candidate` and `--out` (names under dir), then `--clusters` when given. */
export function setArgs(
  dir: string,
  { reference = 'ref.npy', candidate = 'cand.npy', out = 'out', clusters }: SetNames = {},
): string[] {
  const args = ['--reference', join(dir, reference), '--candidate', join(dir, candidate), '--out', join(dir, out)];
  return clusters === undefined ? args : [...args, '--clusters', String(clusters)];
}

/** Each non-blank line of a JSONL file, parsed. */
export function readJsonl<T = Record<string, unknown>>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** One JSON line per row joined by newlines, plus a final newline (so no rows is "\n"). */
export const toJsonl = (rows: readonly object[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

export function writeJsonl(path: string, rows: readonly object[]): void {
  writeFileSync(path, toJsonl(rows));
}
