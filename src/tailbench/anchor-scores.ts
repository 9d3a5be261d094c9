/**
 * The anchor as scored by the model under test: a score directory of the anchor made by that same model (same
 * model directory and ONNX graph, per its run.json) is read as it is; otherwise the anchor's corpus (ANCHOR itself,
 * or the corpus a score directory of another model names) is scored into `workDir` (resumable, and reused when that
 * holds a finished run of the same corpus and model: detect/scored-input.ts).
 *
 * Rows come back streamed, each with its document's UTF-8 bytes, read from the corpus in the same pass (score rows
 * are a subsequence of the corpus's documents, in order, so the join is a merge on the corpus line): bits per byte
 * need them, and a score row holds only code points.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError, TailguardError, UsageError } from '../errors.js';
import { ensureScored, type ScoringSettings } from '../detect/scored-input.js';
import { openCorpus } from '../io/open-corpus.js';
import { resolveModel } from '../lm/model-dir.js';
import type { RunSummary } from '../score/score-corpus.js';
import { corpusFields, isScoreDir, readRun, SCORE_FILES, scoreRows } from '../score/score-dir.js';

export interface AnchorScores {
  run: RunSummary;
  scoresDir: string;
  corpus: string;
  textField?: string;
  idField?: string;
  /** True when the anchor was scored by this call (or the work directory's earlier run was reused). */
  scored: boolean;
}

export interface AnchorDoc {
  id: string;
  line: number;
  tokens: number;
  mean_nll: number;
  bytes: number;
}

export type AnchorScoring = Omit<ScoringSettings, 'observerModel' | 'observerOnnxFile'>;

/** The anchor's scores by `settings.model`, scoring it into `workDir` when no score directory of that model is given. */
export async function anchorScores(anchor: string, workDir: string, settings: AnchorScoring): Promise<AnchorScores> {
  if (anchor === '-') throw new UsageError('`anchor` is read twice and cannot be stdin: give a file or directory');
  if (!existsSync(anchor)) throw new UsageError(`${anchor}: no such anchor corpus or score directory`);
  let corpus = resolve(anchor);
  let fields: { textField?: string; idField?: string } = { textField: settings.textField, idField: settings.idField };
  if (isScoreDir(anchor)) {
    const run = readRun(anchor);
    const want = await resolveModel(settings.model, {
      onnxFile: settings.onnxFile,
      cacheDir: settings.cacheDir,
      offline: settings.offline,
    });
    const f = corpusFields(run);
    if (resolve(run.model.dir) === want.dir && resolve(run.model.onnx) === resolve(want.onnxPath))
      return { run, scoresDir: anchor, corpus: run.input, ...f, scored: false };
    if (!run.input || run.input === '-' || !existsSync(run.input))
      throw new UsageError(
        `${anchor} was scored with ${run.model.ref}, not ${settings.model}, and its corpus (${run.input}) cannot be read to score it again`,
      );
    corpus = run.input;
    fields = f;
  }
  const s = await ensureScored(corpus, workDir, { ...settings, ...fields });
  return { run: s.run, scoresDir: s.scoresDir, corpus, ...fields, scored: true };
}

/** The anchor's score rows in order, each with its document's UTF-8 bytes from the corpus. */
export async function* anchorDocs(a: AnchorScores): AsyncGenerator<AnchorDoc> {
  if (!existsSync(a.corpus))
    throw new UsageError(`bits per byte need the anchor's texts, and its corpus ${a.corpus} is no longer there`);
  const scores = join(a.scoresDir, SCORE_FILES.scores);
  const corpus = openCorpus(a.corpus, { textField: a.textField, idField: a.idField });
  let n = 0;
  for await (const row of scoreRows(a.scoresDir)) {
    n++;
    if (typeof row.mean_nll !== 'number' || typeof row.tokens !== 'number' || typeof row.line !== 'number')
      throw new InputError(scores, n, 'a score row without numeric line, tokens and mean_nll');
    for (;;) {
      const next = await corpus.next();
      if (next.done)
        throw new TailguardError(
          `${scores} has row ${row.line} (id ${row.id}), which ${a.corpus} does not: was the corpus changed after scoring?`,
        );
      const rec = next.value;
      if (rec.kind !== 'doc' || rec.line !== row.line) continue;
      if (rec.id !== row.id)
        throw new TailguardError(
          `${a.corpus} row ${rec.line} has id ${rec.id}, the score row ${row.id}: was the corpus changed after scoring?`,
        );
      yield {
        id: row.id,
        line: row.line,
        tokens: row.tokens,
        mean_nll: row.mean_nll,
        bytes: Buffer.byteLength(rec.text),
      };
      break;
    }
  }
}
