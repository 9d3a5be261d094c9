/**
 * The anchor ledger: one entry per generation of what `anchor check` found, so the anchor's share and presence can be
 * followed over generations. Its own file, not compare's ledger.json: compare rewrites that whole on every run, and
 * generations are checked one at a time, as each mix is built. An entry is updated in place when its generation is
 * checked again, else appended; the file is replaced atomically.
 */
import { existsSync, readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';

export interface AnchorLedgerEntry {
  generation: string;
  mix: string;
  anchor: string;
  anchor_documents: number;
  mix_rows: number;
  anchor_rows: number;
  /** anchor_rows / mix_rows (null for an empty mix). */
  share: number | null;
  present: number;
  missing: number;
  altered: number;
  /** Anchor documents flagged as machine-written (null: no detections given). */
  flagged: number | null;
  checked_at: string;
}

export interface AnchorLedger {
  tool: 'tailguard';
  command: 'anchor check';
  ledger_version: 1;
  generations: AnchorLedgerEntry[];
}

export function readAnchorLedger(path: string): AnchorLedger {
  if (!existsSync(path)) return { tool: 'tailguard', command: 'anchor check', ledger_version: 1, generations: [] };
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`${path}: not a JSON anchor ledger (${(err as Error).message})`);
  }
  const l = (data ?? {}) as { command?: unknown; ledger_version?: unknown; generations?: unknown };
  if (l.command === 'compare')
    throw new UsageError(
      `${path} is the ledger of \`tailguard compare\`, which rewrites it on every run: give \`ledger\` a file of its own`,
    );
  if (l.command !== 'anchor check' || l.ledger_version !== 1 || !Array.isArray(l.generations))
    throw new UsageError(`${path}: not an anchor ledger of \`tailguard anchor check\` (ledger_version 1)`);
  return l as unknown as AnchorLedger;
}

/** The ledger with `entry` in its generation's place (or last), written to `path`. */
export async function recordGeneration(path: string, entry: AnchorLedgerEntry): Promise<AnchorLedger> {
  const ledger = readAnchorLedger(path);
  const at = ledger.generations.findIndex((g) => g.generation === entry.generation);
  if (at >= 0) ledger.generations[at] = entry;
  else ledger.generations.push(entry);
  await writeFileAtomic(path, `${JSON.stringify(ledger, null, 2)}\n`);
  return ledger;
}

/** Warnings from the trend: anchor documents that an earlier generation had and this one lost (replaced, not kept). */
export function ledgerWarnings(ledger: AnchorLedger, generation: string): string[] {
  const at = ledger.generations.findIndex((g) => g.generation === generation);
  const now = ledger.generations[at];
  const before = ledger.generations[at - 1];
  if (!now || !before || before.anchor_documents !== now.anchor_documents || now.present >= before.present) return [];
  return [
    `${before.present - now.present} anchor documents present in generation ${before.generation} are gone from generation ${now.generation} (${before.present} → ${now.present}): the anchor should accumulate, not be replaced`,
  ];
}
