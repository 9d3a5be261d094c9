/**
 * Which documents go to review, within a budget. Each reason ranks its own candidates:
 *   near_threshold  by |score − threshold| (closest first; ties by input order): where the detector is least sure;
 *   tail_region     by a seeded hash of the id: a uniform random sample of the tail documents;
 *   held_batch      by a seeded hash of the id: a uniform random sample of the rows of held audit batches.
 * The budget is shared out in turns: the reasons present take one document each, in the order above, until the
 * budget is spent or no reason has candidates left; a document already taken is passed over. So every reason gets an
 * equal share (±1), a reason with fewer candidates than its share leaves the rest to the others, and a document with
 * several reasons counts once. The same inputs and seed give the same queue.
 *
 * Streaming: a reason never needs more than 2 × budget of its best candidates (at most `budget` taken, at most
 * `budget` passed over), so each keeps a bounded heap of that many and memory is O(budget), whatever the input size.
 */
import { createHash } from 'node:crypto';

export const REASONS = ['near_threshold', 'tail_region', 'held_batch'] as const;
export type Reason = (typeof REASONS)[number];

/** A candidate's rank key under its reason (smaller = taken first) and its position in its input (ties). */
export interface Ranked {
  id: string;
  key: number;
  order: number;
}

/** The k smallest by (key, order), kept in a max-heap as they stream past. */
export class BestK {
  private heap: Ranked[] = [];
  private seen = new Set<string>();
  constructor(readonly k: number) {}

  private static worse(a: Ranked, b: Ranked): boolean {
    return a.key > b.key || (a.key === b.key && a.order > b.order);
  }

  /** Offers a candidate; an id the heap holds already is not offered again (a repeated id keeps its first row). */
  offer(c: Ranked): void {
    if (this.k === 0 || this.seen.has(c.id)) return;
    const h = this.heap;
    if (h.length === this.k) {
      if (!BestK.worse(h[0]!, c)) return;
      this.seen.delete(h[0]!.id);
      h[0] = c;
      this.down(0);
    } else {
      h.push(c);
      this.up(h.length - 1);
    }
    this.seen.add(c.id);
  }

  /** The kept candidates, best first. */
  sorted(): Ranked[] {
    return [...this.heap].sort((a, b) => a.key - b.key || a.order - b.order);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!BestK.worse(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && BestK.worse(h[l]!, h[m]!)) m = l;
      if (r < h.length && BestK.worse(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

/** A uniform number in [0, 1) fixed by (seed, reason, id): the sampling key, independent between reasons. */
export function seededKey(seed: number, reason: Reason, id: string): number {
  const d = createHash('sha256').update(`${seed}\u0000${reason}\u0000${id}`).digest();
  return d.readUIntBE(0, 6) / 2 ** 48;
}

export interface Pick {
  id: string;
  /** The reason whose turn took it. */
  reason: Reason;
  /** 1-based position in the queue. */
  rank: number;
}

/** Takes `budget` documents from the reasons' ranked lists in turns (see the header). */
export function takeInTurns(ranked: Partial<Record<Reason, Ranked[]>>, budget: number): Pick[] {
  const lists = REASONS.filter((r) => ranked[r] !== undefined).map((r) => ({ reason: r, list: ranked[r]!, at: 0 }));
  const taken = new Set<string>();
  const picks: Pick[] = [];
  let progress = true;
  while (picks.length < budget && progress) {
    progress = false;
    for (const l of lists) {
      if (picks.length >= budget) break;
      while (l.at < l.list.length && taken.has(l.list[l.at]!.id)) l.at++;
      if (l.at >= l.list.length) continue;
      const id = l.list[l.at++]!.id;
      taken.add(id);
      picks.push({ id, reason: l.reason, rank: picks.length + 1 });
      progress = true;
    }
  }
  return picks;
}
