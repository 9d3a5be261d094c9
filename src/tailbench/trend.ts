/**
 * The alarm "the tail degrades while the head holds", between a generation of the tailbench ledger and an earlier
 * one (the previous, and the first). For each group g (tail, head): Δ_g = mean_now − mean_then, with standard error
 * SE_g = √(se_now² + se_then²) (the two generations' means treated as independent: the same documents scored by two
 * models are positively correlated, so this SE is at least as wide as a paired one, and the alarm conservative), and
 * the interval Δ_g ± z·SE_g. The tail degraded when its interval lies above 0 (Δ_tail − z·SE_tail > 0); the head
 * holds when its interval reaches 0 or below (Δ_head − z·SE_head ≤ 0: no significant rise; an improving head holds).
 * The alarm fires when both hold, against the previous generation or the first. Generations are compared only when
 * they share the unit, the tail regions and the documents per group (the same anchor and coverage run).
 */
import type { MeanStat } from './bench-stats.js';
import type { TailbenchLedger, TailbenchLedgerEntry } from './ledger.js';

export interface Change {
  delta: number;
  se: number;
  lo: number;
  hi: number;
}

export type Comparison =
  | {
      against: string;
      comparable: true;
      tail: Change;
      head: Change;
      tail_degraded: boolean;
      head_holds: boolean;
      alarm: boolean;
    }
  | { against: string; comparable: false; reason: string };

export interface TailTrend {
  generation: string;
  vs_previous: Comparison | null;
  /** Null when the first generation is the previous one (or this one). */
  vs_first: Comparison | null;
  alarm: boolean;
  /** Why the alarm fired (one line per comparison that fired). */
  reasons: string[];
  /** What else the comparisons found: head and tail degrading together, generations that cannot be compared. */
  notes: string[];
}

function change(then: MeanStat, now: MeanStat, z: number): Change | null {
  if (then.mean === null || now.mean === null || then.se === null || now.se === null) return null;
  const delta = now.mean - then.mean;
  const se = Math.sqrt(then.se ** 2 + now.se ** 2);
  return { delta, se, lo: delta - z * se, hi: delta + z * se };
}

const sameTails = (a: number[], b: number[]) =>
  a.length === b.length && [...a].sort((x, y) => x - y).every((t, i) => t === [...b].sort((x, y) => x - y)[i]);

/** Compares generation `now` with the earlier `then`. */
export function compareTailbenchGenerations(
  then: TailbenchLedgerEntry,
  now: TailbenchLedgerEntry,
  z: number,
): Comparison {
  const against = then.generation;
  const no = (reason: string): Comparison => ({ against, comparable: false, reason });
  if (then.unit !== now.unit) return no(`its unit is ${then.unit}, this one's ${now.unit}`);
  if (!sameTails(then.tails, now.tails))
    return no(`its tail regions are ${JSON.stringify(then.tails)}, this one's ${JSON.stringify(now.tails)}`);
  if (!then.tail || !now.tail || !then.head || !now.head) return no('one of them has no tail or no head documents');
  if (then.tail.docs !== now.tail.docs || then.head.docs !== now.head.docs)
    return no(
      `it has ${then.tail.docs} tail and ${then.head.docs} head documents, this one ${now.tail.docs} and ${now.head.docs}`,
    );
  const tail = change(then.tail, now.tail, z);
  const head = change(then.head, now.head, z);
  if (!tail || !head) return no('a group has fewer than two documents: no interval');
  const tailDegraded = tail.lo > 0;
  const headHolds = head.lo <= 0;
  return {
    against,
    comparable: true,
    tail,
    head,
    tail_degraded: tailDegraded,
    head_holds: headHolds,
    alarm: tailDegraded && headHolds,
  };
}

const f = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(4);
const span = (c: Change) => `${f(c.delta)} (${f(c.lo)} to ${f(c.hi)})`;

/** The trend at `generation` of `ledger` (which holds it), at ±z. */
export function tailTrend(ledger: TailbenchLedger, generation: string, z: number): TailTrend {
  const at = ledger.generations.findIndex((g) => g.generation === generation);
  const now = ledger.generations[at];
  if (!now) throw new Error(`generation ${generation} is not in the ledger`);
  const prev = at > 0 ? ledger.generations[at - 1]! : undefined;
  const first = at > 1 ? ledger.generations[0]! : undefined;
  const vsPrevious = prev ? compareTailbenchGenerations(prev, now, z) : null;
  const vsFirst = first ? compareTailbenchGenerations(first, now, z) : null;
  const reasons: string[] = [];
  const notes: string[] = [];
  for (const c of [vsPrevious, vsFirst]) {
    if (!c) continue;
    if (!c.comparable) {
      notes.push(`generation ${generation} is not compared with ${c.against}: ${c.reason}`);
      continue;
    }
    const what = `since generation ${c.against} the tail's bits per byte changed by ${span(c.tail)}, the head's by ${span(c.head)}`;
    if (c.alarm) reasons.push(`the tail degrades while the head holds: ${what}`);
    else if (c.tail_degraded) notes.push(`the tail and the head both degraded (${what}): not a loss of the tail alone`);
  }
  return { generation, vs_previous: vsPrevious, vs_first: vsFirst, alarm: reasons.length > 0, reasons, notes };
}
