/**
 * The text/id field rules shared by the JSONL and Parquet readers, so both
 * formats turn the same row into the same DocRecord or the same BadRecord reason.
 */

export const DEFAULT_TEXT_FIELD = 'text';

/** A short type name for messages: "null", "array", "object", "number", "bigint", ... */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'timestamp';
  if (value instanceof Uint8Array) return 'binary';
  return typeof value;
}

export type FieldCheck<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * The document text from a row, or why the row cannot be scored.
 * `present` distinguishes a missing key from an explicit undefined/null value.
 */
export function checkText(value: unknown, present: boolean, field: string): FieldCheck<string> {
  if (!present || value === undefined) return { ok: false, reason: `missing field "${field}"` };
  if (typeof value !== 'string') {
    return { ok: false, reason: `field "${field}" is ${typeName(value)}, expected string` };
  }
  // trim() only scans inward from both ends, so this is cheap even for huge documents.
  if (value.trim() === '') return { ok: false, reason: 'empty document' };
  return { ok: true, value };
}

/**
 * The id of a row.
 * - no id field configured, or the field is absent/null: the 1-based line (row) number,
 *   so every row still gets a stable id and is still scored;
 * - string / number / bigint / boolean: its string form;
 * - anything else (object, array, binary): the row is bad, because silently
 *   stringifying "[object Object]" would give many rows the same id.
 */
export function resolveId(
  value: unknown,
  present: boolean,
  line: number,
  field: string | undefined,
): FieldCheck<string> {
  if (field === undefined || !present || value === undefined || value === null)
    return { ok: true, value: String(line) };
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'bigint':
    case 'boolean':
      return { ok: true, value: String(value) };
  }
  if (value instanceof Date) return { ok: true, value: value.toISOString() };
  return { ok: false, reason: `id field "${field}" is ${typeName(value)}, expected a string or number` };
}

/** Id to put on a BadRecord: the row's id when it can be determined, else null. */
export function idForBadRow(value: unknown, present: boolean, line: number, field: string | undefined): string | null {
  const r = resolveId(value, present, line, field);
  return r.ok ? r.value : null;
}
