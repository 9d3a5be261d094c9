/**
 * The second read of the anchor, after the mix pass: the counters are per document number, and only the anchor
 * itself holds the ids, so it is read again, in the same order, to name each document. Every document gets a row of
 * OUT/anchor.jsonl (status present / altered / missing); missing ones also go to OUT/missing.jsonl, flagged ones to
 * OUT/contaminated.jsonl; the first few of each kind come back for the report. An anchor that changed between the two
 * reads is refused rather than misnamed.
 */
import { join } from 'node:path';
import { TailguardError } from '../errors.js';
import { JsonlWriter } from '../io/jsonl-writer.js';
import type { AnchorSet } from './anchor-set.js';
import { textHash } from './hashing.js';
import type { AnchorDocRef } from './report.js';
import { sourceDocs, type Source } from './sources.js';

export const ANCHOR_FILES = {
  report: 'report.json',
  anchor: 'anchor.jsonl',
  missing: 'missing.jsonl',
  contaminated: 'contaminated.jsonl',
} as const;

const EXAMPLES = 10;

export interface AnchorTally {
  present: { byId: number; byText: number; byEither: number };
  missing: number;
  altered: number;
  duplicates: number;
  extraRows: number;
  flagged: number;
  flaggedInMix: number;
  examples: {
    missing: AnchorDocRef[];
    altered: AnchorDocRef[];
    duplicates: AnchorDocRef[];
    flagged: (AnchorDocRef & { p_synthetic: number })[];
  };
}

type Status = 'present' | 'altered' | 'missing';

export async function tallyAnchor(
  source: Source,
  set: AnchorSet,
  opts: { out?: string; matchIds: boolean; detections: boolean },
): Promise<AnchorTally> {
  const t: AnchorTally = {
    present: { byId: 0, byText: 0, byEither: 0 },
    ...{ missing: 0, altered: 0, duplicates: 0, extraRows: 0, flagged: 0, flaggedInMix: 0 },
    examples: { missing: [], altered: [], duplicates: [], flagged: [] },
  };
  const note = <T>(list: T[], x: T) => list.length < EXAMPLES && list.push(x);
  const out = opts.out;
  const writers = out
    ? {
        anchor: await JsonlWriter.create(join(out, ANCHOR_FILES.anchor)),
        missing: await JsonlWriter.create(join(out, ANCHOR_FILES.missing)),
        contaminated: opts.detections ? await JsonlWriter.create(join(out, ANCHOR_FILES.contaminated)) : null,
      }
    : null;
  const all = writers ? [writers.anchor, writers.missing, writers.contaminated] : [];
  try {
    let j = 0;
    for await (const doc of sourceDocs(source)) {
      if (j >= set.size || !set.sameText(j, textHash(doc.text)))
        throw new TailguardError(
          `${source.corpus} changed while it was checked (line ${doc.line}): run the check again`,
        );
      const ref: AnchorDocRef = { id: doc.id, line: doc.line };
      const occ = set.occurrences(j);
      const byId = set.rowsById[j]!;
      const status: Status = occ === 0 ? 'missing' : byId > set.rowsByBoth[j]! ? 'altered' : 'present';
      if (byId > 0) t.present.byId++;
      if (set.rowsByText[j]! > 0) t.present.byText++;
      if (occ > 0) t.present.byEither++;
      if (status === 'missing') {
        t.missing++;
        note(t.examples.missing, ref);
        await writers?.missing.write(ref);
      }
      if (status === 'altered') {
        t.altered++;
        note(t.examples.altered, ref);
      }
      if (occ > 1) {
        t.duplicates++;
        t.extraRows += occ - 1;
        note(t.examples.duplicates, ref);
      }
      const p = set.pSynthetic[j]!;
      const flagged = set.flagged[j] === 1;
      if (flagged) {
        t.flagged++;
        if (occ > 0) t.flaggedInMix++;
        note(t.examples.flagged, { ...ref, p_synthetic: p });
        await writers?.contaminated?.write({ ...ref, p_synthetic: p, occurrences: occ });
      }
      await writers?.anchor.write({
        ...ref,
        status,
        rows_by_id: opts.matchIds ? byId : null,
        rows_by_text: set.rowsByText[j],
        occurrences: occ,
        ...(opts.detections ? { flagged, p_synthetic: Number.isNaN(p) ? null : p } : {}),
      });
      j++;
    }
    if (j !== set.size)
      throw new TailguardError(`${source.corpus} changed while it was checked (${set.size} documents, then ${j})`);
  } catch (err) {
    for (const w of all) await w?.abandon();
    throw err;
  }
  for (const w of all) await w?.close();
  return t;
}
