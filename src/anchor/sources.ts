/**
 * The anchor and the mix as streams of documents. Each is a corpus (JSONL, Parquet, a directory of .txt) or a
 * `tailguard score` output directory, which stands for the corpus it scored, read with that run's text and id
 * fields. Every row must be readable: an integrity check that skipped a row could call a present document missing,
 * so a bad row stops the check with its file and line (InputError), and nothing is written.
 *
 * A row has an id only when it carries its id field (or is a file of a directory: its relative path); rows without
 * one are matched by text alone, never by their line number.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { resolveId } from '../io/fields.js';
import { detectCorpusFormat, openCorpus } from '../io/open-corpus.js';
import { corpusFields, isScoreDir, readRun } from '../score/score-dir.js';

export interface SourceFields {
  textField?: string;
  idField?: string;
}

export interface Source {
  /** The path given. */
  path: string;
  /** The corpus read: `path` itself, or the corpus a score directory scored. */
  corpus: string;
  scoreDir: boolean;
  textField: string;
  idField: string | null;
  /** Where ids come from: a field, a file's relative path, or nowhere (text only). */
  ids: 'field' | 'path' | 'none';
}

export interface SourceDoc {
  line: number;
  file: string;
  /** null when the row has no id of its own. */
  id: string | null;
  text: string;
}

/** What `path` is and how to read it; `fields` are the caller's options (`names` spells them in messages). */
export async function resolveSource(
  path: string,
  fields: SourceFields,
  names: { textField: string; idField: string },
): Promise<Source> {
  if (path !== '-' && isScoreDir(path)) {
    const run = readRun(path);
    const own = corpusFields(run);
    const textField = own.textField ?? 'text';
    const idField = own.idField ?? null;
    if (fields.textField !== undefined && fields.textField !== textField)
      throw new UsageError(
        `${path} is a score directory of a corpus read with text field "${textField}"; \`${names.textField}\` says "${fields.textField}"`,
      );
    if (fields.idField !== undefined && fields.idField !== idField)
      throw new UsageError(
        `${path} is a score directory of a corpus read with ${idField === null ? 'no id field' : `id field "${idField}"`}; \`${names.idField}\` says "${fields.idField}"`,
      );
    if (run.input === '-' || !existsSync(run.input))
      throw new UsageError(`${path}: the scored corpus ${run.input} cannot be read again; the check needs its texts`);
    const format = await detectCorpusFormat(run.input);
    const ids = format.kind === 'textdir' ? 'path' : idField === null ? 'none' : 'field';
    return { path, corpus: run.input, scoreDir: true, textField, idField, ids };
  }
  const format = await detectCorpusFormat(path);
  const idField = fields.idField ?? null;
  const ids = format.kind === 'textdir' ? 'path' : idField === null ? 'none' : 'field';
  return {
    path,
    corpus: path === '-' ? path : resolve(path),
    scoreDir: false,
    textField: fields.textField ?? 'text',
    idField,
    ids,
  };
}

/**
 * The documents of `source` in input order; the first bad row throws InputError. The id field is read as a kept
 * field, not as the reader's id (which falls back to the line number), so a row without one is known to have none;
 * its value becomes an id by the readers' own rule (io/fields.ts).
 */
export async function* sourceDocs(source: Source): AsyncGenerator<SourceDoc> {
  const idField = source.ids === 'field' ? source.idField! : undefined;
  const records = openCorpus(source.corpus, {
    textField: source.textField,
    ...(idField === undefined ? {} : { keepFields: [idField] }),
  });
  for await (const rec of records) {
    if (rec.kind === 'bad')
      throw new InputError(rec.file, rec.line, `${rec.reason} (every row must be readable to check the anchor)`);
    let id: string | null = null;
    if (source.ids === 'path') id = rec.id;
    else if (idField !== undefined) {
      const v = rec.fields?.[idField];
      if (v !== undefined && v !== null) {
        const r = resolveId(v, true, rec.line, idField);
        if (!r.ok) throw new InputError(rec.file, rec.line, r.reason);
        id = r.value;
      }
    }
    yield { line: rec.line, file: rec.file, id, text: rec.text };
  }
}
