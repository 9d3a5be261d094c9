/**
 * The texts behind a few embedding rows, so a report can show what a region is about rather than bare ids.
 * Embeddings carry no text: a `tailguard score` directory names its input corpus (and text/id fields) in run.json,
 * and an .npy's id sidecar (X.jsonl) may hold a `text` field. The corpus is streamed once and the scan stops when
 * every wanted row is found. When the text cannot be had (corpus moved, read from stdin), the reason is returned and
 * the report falls back to ids.
 *
 * Rows are found by position, not by id, so rows that share an id each get their own text: a score directory's row
 * is its corpus line (scores.jsonl `line`; a row whose id there differs is left without text: the corpus changed),
 * an .npy's row r is record r of its sidecar.
 */
import { existsSync, statSync } from 'node:fs';
import { inputExists } from '../io/corpus-files.js';
import { corpusFields, isScoreDir, readRun } from '../score/score-dir.js';
import { openCorpus } from '../io/open-corpus.js';
import { scoreRowLines, type VectorSet } from './vectors.js';

export interface ExampleTexts {
  /** Row → the first `maxChars` characters of its text. */
  texts: Map<number, string>;
  /** Why no texts were found, when none were. */
  missing?: string;
}

export type TextSource =
  { corpus: string; textField?: string; idField?: string; scoreDir: boolean } | { missing: string };

/** Where the texts of the vectors at `vectorsPath` (a score directory or an .npy) can be read from. */
export function textSource(vectorsPath: string): TextSource {
  if (statSync(vectorsPath).isDirectory()) {
    if (!isScoreDir(vectorsPath)) return { missing: `${vectorsPath} has no run.json` };
    const run = readRun(vectorsPath);
    if (!run.input || run.input === '-') return { missing: 'the score run read its corpus from standard input' };
    if (!inputExists(run.input)) return { missing: `the scored corpus ${run.input} is no longer there` };
    return { corpus: run.input, ...corpusFields(run), scoreDir: true };
  }
  const sidecar = vectorsPath.replace(/\.npy$/, '.jsonl');
  if (!existsSync(sidecar)) return { missing: `no ${sidecar} beside the .npy` };
  return { corpus: sidecar, textField: 'text', idField: 'id', scoreDir: false };
}

/** The texts of rows `rows` of `set` (loaded from `set.source`), each cut to `maxChars`. */
export async function exampleTexts(
  set: Pick<VectorSet, 'source' | 'ids'>,
  rows: Iterable<number>,
  maxChars = 280,
): Promise<ExampleTexts> {
  const texts = new Map<number, string>();
  const source = textSource(set.source);
  if ('missing' in source) return { texts, missing: source.missing };
  const want = [...new Set(rows)];
  if (!want.length) return { texts };
  // Each wanted row by where its record is: a corpus line (score directory) or a sidecar record index.
  const lines = source.scoreDir ? scoreRowLines(set.source, want) : undefined;
  if (source.scoreDir && !lines)
    return { texts, missing: `${set.source}/scores.jsonl does not give every example's line` };
  const rowAt = new Map(want.map((r) => [lines ? lines.get(r)! : r, r]));
  try {
    for await (const rec of openCorpus(source.corpus, { textField: source.textField, idField: source.idField })) {
      if (rec.kind !== 'doc') continue;
      const r = rowAt.get(lines ? rec.line : rec.index);
      if (r === undefined || texts.has(r) || (lines && rec.id !== set.ids[r])) continue;
      texts.set(r, rec.text.length > maxChars ? `${rec.text.slice(0, maxChars - 1)}…` : rec.text);
      if (texts.size === want.length) break;
    }
  } catch (err) {
    return { texts, missing: `${source.corpus}: ${(err as Error).message}` };
  }
  return texts.size ? { texts } : { texts, missing: `none of the example ids found in ${source.corpus}` };
}

/**
 * Cluster rows with the texts of their examples beside the ids (null where a text was not found); `exampleRows[t]`
 * holds the rows of `rows[t].examples` in `set`.
 */
export async function withExampleTexts<R extends { examples: string[] }>(
  rows: R[],
  exampleRows: number[][],
  set: Pick<VectorSet, 'source' | 'ids'>,
): Promise<{ rows: (R & { example_texts: (string | null)[] })[]; missing?: string }> {
  const { texts, missing } = await exampleTexts(set, exampleRows.flat());
  return {
    rows: rows.map((r, t) => ({ ...r, example_texts: exampleRows[t]!.map((i) => texts.get(i) ?? null) })),
    missing,
  };
}
