/**
 * Names for the reference's regions: each region's most distinctive words by c-TF-IDF (ctfidf.ts) over the texts of
 * its reference documents, streamed once from the reference's corpus (row-texts.ts). When the texts cannot be read
 * the regions keep `label: null` and the reason is returned, as example texts do.
 */
import { ClassTermCounts, DEFAULT_TOP_TERMS, DEFAULT_VOCABULARY_CAP, labelOf, type TopTerm } from './ctfidf.js';
import { rowTexts } from './row-texts.js';
import type { VectorSet } from './vectors.js';

export interface RegionLabel {
  /** The top words joined by ", " ('' for a region whose documents have no words); null: no texts. */
  label: string | null;
  top_terms: TopTerm[];
}

/** How the labels were made, for report.json. */
export interface RegionLabelsInfo {
  method: 'c-TF-IDF';
  top_terms: number;
  /** Reference documents whose text was read and counted. */
  documents: number;
  vocabulary: number;
  vocabulary_cap: number;
  /** Rare words dropped to keep the vocabulary under the cap (0: the labels are exact). */
  pruned_words: number;
}

export interface RegionLabels {
  labels: RegionLabel[];
  info?: RegionLabelsInfo;
  /** Why the regions have no labels, when they have none. */
  missing?: string;
}

export interface RegionLabelOptions {
  top?: number;
  vocabularyCap?: number;
}

/** Labels of the `k` regions of `set`, whose row i lies in region `assign[i]`. */
export async function regionLabels(
  set: Pick<VectorSet, 'source' | 'ids'>,
  assign: Int32Array,
  k: number,
  opts: RegionLabelOptions = {},
): Promise<RegionLabels> {
  const none = (missing: string): RegionLabels => ({
    labels: Array.from({ length: k }, () => ({ label: null, top_terms: [] })),
    missing,
  });
  const texts = rowTexts(set.source);
  if ('missing' in texts) return none(texts.missing);
  const counts = new ClassTermCounts(k, opts.vocabularyCap ?? DEFAULT_VOCABULARY_CAP);
  let documents = 0;
  try {
    for await (const { row, id, text } of texts.rows) {
      if (row >= assign.length || id !== set.ids[row]) continue;
      counts.add(assign[row]!, text);
      documents++;
    }
  } catch (err) {
    return none(`the reference's texts could not be read (${(err as Error).message})`);
  }
  if (!documents) return none(`none of the reference's documents found in its corpus`);
  const top = opts.top ?? DEFAULT_TOP_TERMS;
  const terms = counts.topTerms(top);
  return {
    labels: terms.map((t) => ({ label: labelOf(t), top_terms: t })),
    info: {
      method: 'c-TF-IDF',
      top_terms: top,
      documents,
      vocabulary: counts.vocabulary,
      vocabulary_cap: counts.vocabularyCap,
      pruned_words: counts.prunedWords,
    },
  };
}
