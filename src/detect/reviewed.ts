/**
 * `calibrate --reviewed`: labels verified by human review (a `tailguard review import` log) override the labels the
 * calibration sets give, joined by id. Each document's latest human/machine verdict counts (review/log.ts; unsure
 * verdicts are ignored): a row of the human set that a reviewer called machine moves to the synthetic set, and the
 * reverse; every row of a repeated id moves with it. `extra` rows (calibrate --reviewed-scores: the scored corpus the
 * queue came from) join only when their id was reviewed and is in neither set: they are added with their reviewed
 * label. Reviewed documents found nowhere are counted, not used: calibration needs their signals.
 */
import { resolve } from 'node:path';
import { latestLabels } from '../review/log.js';
import type { ReviewedProvenance } from './detector.js';
import type { ScoreRow } from './features.js';

export interface LabelledSet {
  rows: ScoreRow[];
  domains: (string | undefined)[];
}

export async function applyReviewed(
  log: string,
  sets: { human: LabelledSet; synthetic: LabelledSet; extra?: LabelledSet },
): Promise<{ sets: { human: LabelledSet; synthetic: LabelledSet }; provenance: ReviewedProvenance }> {
  const { labels, entries, unsure } = await latestLabels(log);
  const human: LabelledSet = { rows: [], domains: [] };
  const synthetic: LabelledSet = { rows: [], domains: [] };
  const found = new Set<string>();
  const moved = { human_to_machine: 0, machine_to_human: 0, confirmed: 0 };
  for (const [from, given] of [
    [sets.human, 'human'],
    [sets.synthetic, 'machine'],
  ] as const) {
    from.rows.forEach((row, i) => {
      const review = labels.get(row.id);
      if (review) found.add(row.id);
      const label = review?.label ?? given;
      if (review && label === given) moved.confirmed++;
      else if (review && given === 'human') moved.human_to_machine++;
      else if (review) moved.machine_to_human++;
      const to = label === 'human' ? human : synthetic;
      to.rows.push(row);
      to.domains.push(from.domains[i]);
    });
  }
  let added = 0;
  const inSets = new Set(found);
  sets.extra?.rows.forEach((row, i) => {
    const review = labels.get(row.id);
    if (!review || inSets.has(row.id)) return;
    found.add(row.id);
    added++;
    const to = review.label === 'human' ? human : synthetic;
    to.rows.push(row);
    to.domains.push(sets.extra!.domains[i]);
  });
  return {
    sets: { human, synthetic },
    provenance: {
      log: resolve(log),
      entries,
      unsure_ignored: unsure,
      labelled_documents: labels.size,
      found: found.size,
      not_found: labels.size - found.size,
      ...moved,
      added,
    },
  };
}
