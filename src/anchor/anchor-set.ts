/**
 * The anchor held as hashes: per document, its id hash (when it has an id) and its normalised-text hash, with tables
 * from each hash to the documents that have it, and the counters the mix pass fills. About 100 bytes a document
 * whatever its length; no text is kept. Documents are numbered 0, 1, … in anchor order, which a second read of the
 * anchor (anchor-rows.ts) follows to name them.
 */
import type { DetectionJoin } from './detections.js';
import { HashChains, hash64, textHash, type Hash64 } from './hashing.js';
import { sourceDocs, type Source } from './sources.js';

export class AnchorSet {
  size = 0;
  idHi = new Uint32Array(1024);
  idLo = new Uint32Array(1024);
  hasId = new Uint8Array(1024);
  textHi = new Uint32Array(1024);
  textLo = new Uint32Array(1024);
  readonly byId = new HashChains();
  readonly byText = new HashChains();
  /** Anchor documents whose id / text an earlier anchor document already has. */
  repeatedIds = 0;
  repeatedTexts = 0;
  /** Mix rows with the document's id, with its normalised text, with both. */
  rowsById = new Uint32Array(1024);
  rowsByText = new Uint32Array(1024);
  rowsByBoth = new Uint32Array(1024);
  /** With detections: 1 when flagged as machine-written; the highest p_synthetic seen (NaN: none). */
  flagged = new Uint8Array(1024);
  pSynthetic = new Float64Array(1024).fill(NaN);

  add(id: string | null, text: string): number {
    const j = this.size;
    if (j === this.idHi.length) this.grow();
    const t = textHash(text);
    this.textHi[j] = t.hi;
    this.textLo[j] = t.lo;
    if (!this.byText.add(t, j)) this.repeatedTexts++;
    if (id !== null) {
      const h = hash64(id);
      this.hasId[j] = 1;
      this.idHi[j] = h.hi;
      this.idLo[j] = h.lo;
      if (!this.byId.add(h, j)) this.repeatedIds++;
    }
    this.size++;
    return j;
  }

  sameText(j: number, t: Hash64): boolean {
    return this.textHi[j] === t.hi && this.textLo[j] === t.lo;
  }

  /** Rows of the mix that carry document j (by id or by text, each row once). */
  occurrences(j: number): number {
    return this.rowsById[j]! + this.rowsByText[j]! - this.rowsByBoth[j]!;
  }

  flag(j: number, p: number, synthetic: boolean): void {
    if (synthetic) this.flagged[j] = 1;
    if (!(p <= this.pSynthetic[j]!)) this.pSynthetic[j] = p;
  }

  private grow(): void {
    const n = this.idHi.length * 2;
    const more = <T extends Uint32Array | Uint8Array | Float64Array>(a: T, fill = 0): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      if (fill !== 0) b.fill(fill, a.length);
      return b;
    };
    this.idHi = more(this.idHi);
    this.idLo = more(this.idLo);
    this.hasId = more(this.hasId);
    this.textHi = more(this.textHi);
    this.textLo = more(this.textLo);
    this.rowsById = more(this.rowsById);
    this.rowsByText = more(this.rowsByText);
    this.rowsByBoth = more(this.rowsByBoth);
    this.flagged = more(this.flagged);
    this.pSynthetic = more(this.pSynthetic, NaN);
  }
}

/** Reads the anchor once into hashes; with `detections` over the anchor, marks the documents they flag. */
export async function loadAnchor(source: Source, detections?: DetectionJoin): Promise<AnchorSet> {
  const set = new AnchorSet();
  for await (const doc of sourceDocs(source)) {
    const j = set.add(doc.id, doc.text);
    const d = detections ? await detections.at(doc.line, doc.id) : null;
    if (d) set.flag(j, d.p_synthetic, d.synthetic);
  }
  await detections?.finish();
  return set;
}
