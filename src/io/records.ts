/** What a corpus reader yields: one entry per input row, in input order, good or bad. */

/** A document ready to score. `line` is the 1-based row number in its source (line of a JSONL file, row of a Parquet file, index of a file in a directory). */
export interface DocRecord {
  kind: 'doc';
  /** 0-based position in the whole input stream; output rows are written in this order. */
  index: number;
  line: number;
  /** The id field's value as a string, or the line number when no id field is set/present. */
  id: string;
  text: string;
  /** Source file, for error messages (a directory corpus has many). */
  file: string;
  /** The row's values of CorpusOptions.keepFields that it has (JSONL and Parquet rows). */
  fields?: Record<string, unknown>;
  /** In a many-file input (corpus-files.ts): the file's position in the list, and the row's line within that file. */
  part?: number;
  fileLine?: number;
}

/** A row that could not be turned into a document: reported in errors.jsonl, never dropped silently. */
export interface BadRecord {
  kind: 'bad';
  index: number;
  line: number;
  id: string | null;
  file: string;
  reason: string;
  /** In a many-file input (corpus-files.ts): the file's position in the list, and the row's line within that file. */
  part?: number;
  fileLine?: number;
}

export type InputRecord = DocRecord | BadRecord;

export interface CorpusOptions {
  /** Field holding the text (default "text"). */
  textField?: string;
  /** Field holding the id (default: none, ids are line numbers). */
  idField?: string;
  /** Other fields to carry along in DocRecord.fields (provenance, source, domain...). */
  keepFields?: string[];
}

/** The values of `names` that `row` has. */
export function pickFields(
  row: Record<string, unknown>,
  names: readonly string[] | undefined,
): Record<string, unknown> | undefined {
  if (!names || names.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  for (const n of names) if (Object.hasOwn(row, n)) out[n] = row[n];
  return out;
}
