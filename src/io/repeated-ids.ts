/**
 * Repeated ids in a set held in memory (the rows of an embedding set, a detections file): counted exactly, for the
 * commands that read those rows to say what they did with them. (`score` counts its input's in one streaming pass:
 * score/duplicate-ids.ts.)
 */

/** Ids that more than one row carries. */
export interface RepeatedIds {
  /** Rows whose id an earlier row already has (an id on three rows counts 2). */
  count: number;
  /** Up to 5 repeated ids, in the order their first repeat comes. */
  examples: string[];
}

const MAX_EXAMPLES = 5;

/** The repeated ids of `ids`, or undefined when every id is unique. */
export function repeatedIds(ids: Iterable<string>): RepeatedIds | undefined {
  const seen = new Set<string>();
  const found: RepeatedIds = { count: 0, examples: [] };
  for (const id of ids) {
    if (!seen.has(id)) {
      seen.add(id);
      continue;
    }
    found.count++;
    if (found.examples.length < MAX_EXAMPLES && !found.examples.includes(id)) found.examples.push(id);
  }
  return found.count > 0 ? found : undefined;
}

/** How many times each id occurs. */
export function idCounts(ids: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** A report's `duplicate_ids`: the sets that have repeats, and what the command did with them. */
export type RepeatsReport<K extends string> = Partial<Record<K, RepeatedIds>> & { handling: string };

/** The report entry for `sets` (those without repeats left out), or undefined when no set has any. */
export function repeatsReport<K extends string>(
  sets: Record<K, RepeatedIds | undefined>,
  handling: string,
): RepeatsReport<K> | undefined {
  const found = Object.entries(sets).filter((e): e is [string, RepeatedIds] => e[1] !== undefined);
  return found.length ? ({ ...Object.fromEntries(found), handling } as RepeatsReport<K>) : undefined;
}

/** One warning line: each set's repeats, then what was done with them. */
export function repeatsWarning<K extends string>(report: RepeatsReport<K>): string {
  const parts = Object.entries(report as Record<string, RepeatedIds | string>).flatMap(([name, r]) =>
    typeof r === 'object'
      ? [
          `${r.count} row${r.count === 1 ? '' : 's'} of the ${name} repeat${r.count === 1 ? 's' : ''} an earlier row's id (${r.examples.map((id) => JSON.stringify(id)).join(', ')})`,
        ]
      : [],
  );
  return `repeated ids: ${parts.join('; ')}. ${report.handling}`;
}
