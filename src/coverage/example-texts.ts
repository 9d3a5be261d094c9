/**
 * The texts behind a few embedding rows, so a report can show what a region is about rather than bare ids.
 * Embeddings carry no text: a `tailguard score` directory names its input corpus (and text/id fields) in run.json,
 * and an .npy's id sidecar (X.jsonl) may hold a `text` field. The corpus is streamed once and the scan stops when
 * every wanted id is found. When the text cannot be had (corpus moved, read from stdin), the reason is returned and
 * the report falls back to ids.
 */
import { existsSync, statSync } from 'node:fs';
import { corpusFields, isScoreDir, readRun } from '../detect/scored-input.js';
import { openCorpus } from '../io/open-corpus.js';

export interface ExampleTexts {
  /** id → the first `maxChars` characters of its text. */
  texts: Map<string, string>;
  /** Why no texts were found, when none were. */
  missing?: string;
}

/** Where the texts of the vectors at `vectorsPath` (a score directory or an .npy) can be read from. */
function textSource(vectorsPath: string): { corpus: string; textField?: string; idField?: string } | { missing: string } {
  if (statSync(vectorsPath).isDirectory()) {
    if (!isScoreDir(vectorsPath)) return { missing: `${vectorsPath} has no run.json` };
    const run = readRun(vectorsPath);
    if (!run.input || run.input === '-') return { missing: 'the score run read its corpus from standard input' };
    if (!existsSync(run.input)) return { missing: `the scored corpus ${run.input} is no longer there` };
    return { corpus: run.input, ...corpusFields(run) };
  }
  const sidecar = vectorsPath.replace(/\.npy$/, '.jsonl');
  if (!existsSync(sidecar)) return { missing: `no ${sidecar} beside the .npy` };
  return { corpus: sidecar, textField: 'text', idField: 'id' };
}

export async function exampleTexts(vectorsPath: string, ids: Iterable<string>, maxChars = 280): Promise<ExampleTexts> {
  const wanted = new Set(ids);
  const texts = new Map<string, string>();
  const source = textSource(vectorsPath);
  if ('missing' in source) return { texts, missing: source.missing };
  if (!wanted.size) return { texts };
  try {
    for await (const rec of openCorpus(source.corpus, { textField: source.textField, idField: source.idField })) {
      if (rec.kind !== 'doc' || !wanted.has(rec.id) || texts.has(rec.id)) continue;
      texts.set(rec.id, rec.text.length > maxChars ? `${rec.text.slice(0, maxChars - 1)}…` : rec.text);
      if (texts.size === wanted.size) break;
    }
  } catch (err) {
    return { texts, missing: `${source.corpus}: ${(err as Error).message}` };
  }
  return texts.size ? { texts } : { texts, missing: `none of the example ids found in ${source.corpus}` };
}

/** Cluster rows with the texts of their examples beside the ids (null where a text was not found). */
export async function withExampleTexts<R extends { examples: string[] }>(
  rows: R[], vectorsPath: string,
): Promise<{ rows: (R & { example_texts: (string | null)[] })[]; missing?: string }> {
  const { texts, missing } = await exampleTexts(vectorsPath, rows.flatMap((r) => r.examples));
  return { rows: rows.map((r) => ({ ...r, example_texts: r.examples.map((id) => texts.get(id) ?? null) })), missing };
}
