/** report.json of `anchor check` (types only, so a reader needs none of the code that computes it). */

/** An anchor document named in the report: its id (null when it has none) and its line (row, file) in the anchor. */
export interface AnchorDocRef {
  id: string | null;
  line: number;
}

export interface SideSummary {
  path: string;
  /** The corpus read (a score directory's scored corpus). */
  corpus: string;
  score_dir: boolean;
  text_field: string;
  id_field: string | null;
  ids: 'field' | 'path' | 'none';
}

export interface AnchorReport {
  tool: 'tailguard';
  command: 'anchor check';
  anchor: SideSummary & { documents: number; repeated_ids: number; repeated_texts: number };
  mix: SideSummary & { rows: number; rows_without_id: number };
  /** Whether documents were also matched by id (both sides have ids); when not, the by-id counts are null. */
  id_matching: boolean;
  present: { by_id: number | null; by_text: number; by_either: number };
  missing: { documents: number; examples: AnchorDocRef[] };
  /** Documents whose id is on a mix row with another text; rows with an anchor id and another text. */
  altered: { documents: number | null; rows: number | null; examples: AnchorDocRef[] };
  /** Mix rows whose normalised text is an anchor document's, over all mix rows (a count over the whole mix). */
  share: { anchor_rows: number; mix_rows: number; value: number | null };
  /** Anchor documents on more than one mix row, and the rows beyond the first of each. */
  duplicates: { documents: number; extra_rows: number; examples: AnchorDocRef[] };
  contamination: {
    detections: string;
    of: 'anchor' | 'mix';
    flagged_documents: number;
    /** Of those, the ones in the mix. */
    flagged_in_mix: number;
    /** With detections over the mix: anchor rows of the mix flagged (null over the anchor). */
    flagged_rows: number | null;
    /** Rows of the side read without a detection (not scored by `detect`). */
    unscored_rows: number;
    examples: (AnchorDocRef & { p_synthetic: number })[];
  } | null;
  hashing: { normalisation: string; hash: string; expected_false_matches_at_most: number };
  gate: { min_share: number | null; max_missing: number | null; passed: boolean; reasons: string[] };
  ledger: {
    path: string;
    generation: string;
    generations: { generation: string; share: number | null; present: number; missing: number }[];
  } | null;
  outputs: { report: string; anchor: string; missing: string; contaminated: string | null } | null;
  warnings: string[];
}
