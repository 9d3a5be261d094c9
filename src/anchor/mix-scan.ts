/**
 * The one pass over the mix: each row is hashed, looked up in the anchor's tables, counted against the documents it
 * carries, and dropped, so memory does not grow with the mix. A row is an anchor row (counted in the share) when its
 * normalised text is an anchor document's; a row that only shares an id carries other text (altered), and is not.
 */
import type { AnchorSet } from './anchor-set.js';
import type { DetectionJoin } from './detections.js';
import { hash64, textHash } from './hashing.js';
import type { SourceDoc } from './sources.js';

export interface MixCounts {
  rows: number;
  /** Rows whose normalised text is an anchor document's. */
  anchorRows: number;
  /** Rows with an anchor document's id and another text. */
  alteredRows: number;
  /** Rows without an id of their own (matched by text only). */
  rowsWithoutId: number;
  /** With detections over the mix: anchor rows flagged as machine-written. */
  flaggedAnchorRows: number;
}

export async function scanMix(
  anchor: AnchorSet,
  docs: AsyncIterable<SourceDoc>,
  opts: { matchIds: boolean; detections?: DetectionJoin },
): Promise<MixCounts> {
  const c: MixCounts = { rows: 0, anchorRows: 0, alteredRows: 0, rowsWithoutId: 0, flaggedAnchorRows: 0 };
  const { detections } = opts;
  for await (const doc of docs) {
    c.rows++;
    const t = textHash(doc.text);
    if (doc.id === null) c.rowsWithoutId++;
    else if (opts.matchIds) {
      let byId = 0;
      let byBoth = 0;
      anchor.byId.forEach(hash64(doc.id), (j) => {
        byId++;
        anchor.rowsById[j]! += 1;
        if (anchor.sameText(j, t)) {
          byBoth++;
          anchor.rowsByBoth[j]! += 1;
        }
      });
      if (byId > 0 && byBoth === 0) c.alteredRows++;
    }
    let first = -1;
    anchor.byText.forEach(t, (j) => {
      anchor.rowsByText[j]! += 1;
      if (first < 0) first = j;
    });
    const d = detections ? await detections.at(doc.line, doc.id) : null;
    if (first < 0) continue;
    c.anchorRows++;
    if (d) {
      if (d.synthetic) c.flaggedAnchorRows++;
      anchor.byText.forEach(t, (j) => anchor.flag(j, d.p_synthetic, d.synthetic));
    }
  }
  await detections?.finish();
  return c;
}
