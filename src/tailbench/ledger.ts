/**
 * The tail-benchmark ledger: one entry per model generation (tail and head means with their standard errors, the
 * gap), so a tail that degrades while the head holds shows across generations. Its own file, as the anchor ledger
 * is: compare rewrites its ledger.json on every run, and generations are benchmarked one at a time. An entry is
 * replaced in place when its generation is benchmarked again, else appended; the file is replaced atomically.
 */
import { existsSync, readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { GapStat, MeanStat } from './bench-stats.js';

export interface TailbenchLedgerEntry {
  generation: string;
  /** The model as asked for, its directory and ONNX graph. */
  model: { ref: string; dir: string; onnx: string };
  anchor: string;
  coverage: string;
  /** What the means are in: bits per byte (comparable across tokenizers). */
  unit: 'bits_per_byte';
  /** The tail regions of the coverage run: generations are compared only over the same ones. */
  tails: number[];
  tail: MeanStat | null;
  head: MeanStat | null;
  gap: GapStat | null;
  recorded_at: string;
}

export interface TailbenchLedger {
  tool: 'tailguard';
  command: 'tailbench';
  ledger_version: 1;
  generations: TailbenchLedgerEntry[];
}

export function readTailbenchLedger(path: string): TailbenchLedger {
  if (!existsSync(path)) return { tool: 'tailguard', command: 'tailbench', ledger_version: 1, generations: [] };
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`${path}: not a JSON tailbench ledger (${(err as Error).message})`);
  }
  const l = (data ?? {}) as { command?: unknown; ledger_version?: unknown; generations?: unknown };
  if (l.command === 'compare' || l.command === 'anchor check')
    throw new UsageError(`${path} is the ledger of \`tailguard ${l.command}\`: give \`ledger\` a file of its own`);
  if (l.command !== 'tailbench' || l.ledger_version !== 1 || !Array.isArray(l.generations))
    throw new UsageError(`${path}: not a ledger of \`tailguard tailbench\` (ledger_version 1)`);
  const bad = (l.generations as unknown[]).findIndex((g) => {
    const e = (g ?? {}) as Partial<Record<keyof TailbenchLedgerEntry, unknown>>;
    return typeof e.generation !== 'string' || typeof e.unit !== 'string' || !Array.isArray(e.tails);
  });
  if (bad >= 0)
    throw new UsageError(`${path}: generation entry ${bad + 1} lacks its generation name, unit or tail regions`);
  return l as unknown as TailbenchLedger;
}

/** The ledger with `entry` in its generation's place (or last), written to `path`. */
export async function recordTailbench(path: string, entry: TailbenchLedgerEntry): Promise<TailbenchLedger> {
  const ledger = readTailbenchLedger(path);
  const at = ledger.generations.findIndex((g) => g.generation === entry.generation);
  if (at >= 0) ledger.generations[at] = entry;
  else ledger.generations.push(entry);
  await writeFileAtomic(path, `${JSON.stringify(ledger, null, 2)}\n`);
  return ledger;
}
