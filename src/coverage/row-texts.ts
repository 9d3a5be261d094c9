/**
 * Every text behind an embedding set, streamed with its row: for what needs all of a set's texts (region labels,
 * the tail export) rather than a few (example-texts.ts, which stops early). Same sources and the same row rule as
 * example-texts.ts: a score directory's row i is the corpus record at scores.jsonl row i's `line`; an .npy's row r is
 * record r of its X.jsonl sidecar. Memory: one int per row (the lines), never the texts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openCorpus } from '../io/open-corpus.js';
import { forEachJsonlRowSync } from '../io/jsonl-rows-sync.js';
import { SCORE_FILES, scoreDirParts } from '../score/score-dir.js';
import { textSource } from './example-texts.js';

export interface RowText {
  row: number;
  /** The id the corpus gives the record (a caller that knows the row's id checks it: a changed corpus differs). */
  id: string;
  text: string;
}

/** The texts of the set at `vectorsPath`, row by row in order, or why they cannot be read. */
export function rowTexts(vectorsPath: string): { rows: AsyncGenerator<RowText> } | { missing: string } {
  if (!existsSync(vectorsPath)) return { missing: `${vectorsPath} is no longer there` };
  const source = textSource(vectorsPath);
  if ('missing' in source) return source;
  const opts = { textField: source.textField, idField: source.idField };
  if (!source.scoreDir) {
    return {
      rows: (async function* () {
        for await (const rec of openCorpus(source.corpus, opts))
          if (rec.kind === 'doc') yield { row: rec.index, id: rec.id, text: rec.text };
      })(),
    };
  }
  let lines: Int32Array;
  try {
    lines = scoreLines(vectorsPath);
  } catch (err) {
    return { missing: (err as Error).message };
  }
  const increasing = lines.every((l, i) => i === 0 || l > lines[i - 1]!);
  const rowOfLine = increasing ? undefined : new Map(Array.from(lines, (l, i) => [l, i]));
  return {
    rows: (async function* () {
      let at = 0;
      for await (const rec of openCorpus(source.corpus, opts)) {
        if (rec.kind !== 'doc') continue;
        let row: number | undefined;
        if (rowOfLine) row = rowOfLine.get(rec.line);
        else {
          while (at < lines.length && lines[at]! < rec.line) at++;
          if (at === lines.length) break;
          if (lines[at] === rec.line) row = at;
        }
        if (row !== undefined) yield { row, id: rec.id, text: rec.text };
      }
    })(),
  };
}

/** The corpus line of every row of a score directory (its shards in order). */
function scoreLines(dir: string): Int32Array {
  let lines = new Int32Array(1024);
  let n = 0;
  for (const part of scoreDirParts(dir)) {
    const path = join(part, SCORE_FILES.scores);
    forEachJsonlRowSync(path, ({ line }, i) => {
      if (typeof line !== 'number') throw new Error(`${path} row ${i + 1} has no corpus line`);
      if (n === lines.length) {
        const grown = new Int32Array(2 * n);
        grown.set(lines);
        lines = grown;
      }
      lines[n++] = line;
    });
  }
  return lines.subarray(0, n);
}
