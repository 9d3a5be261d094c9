/**
 * Score rows for detection and calibration, reusing what `score` already computed:
 * - INPUT is a score output directory (run.json + scores.jsonl): its rows are read as they are;
 * - INPUT is a corpus: it is scored into a cache directory (resumable, like `score`), or the cache's finished run is
 *   reused when it scored the same input with the same model.
 * Rows come back joined with the corpus fields a caller asks for (provenance, source, domain), which a score
 * directory does not hold: they are read from the corpus its run.json names.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { TailguardError, UsageError } from '../errors.js';
import { inputExists, resolveInputName } from '../io/corpus-files.js';
import { openCorpus } from '../io/open-corpus.js';
import { DEFAULT_MODEL } from '../lm/model-dir.js';
import { scoreCorpus, type RunSummary, type ScoreOptions } from '../score/score-corpus.js';
import { corpusFields, isScoreDir, readRun, SCORE_FILES, scoreRows, type ScoreRow } from '../score/score-dir.js';

export interface ScoredDoc {
  row: ScoreRow;
  /** The requested corpus fields the row has (empty when none were asked for). */
  fields: Record<string, unknown>;
}

export interface ScoredInput {
  run: RunSummary;
  scoresDir: string;
  /** Rows that could not be scored (errors.jsonl of the run). */
  errors: number;
}

/**
 * Identifies the reference LM behind a run's signals (signals from different LMs are not comparable), and its
 * observer model when the run had one (its Binoculars score depends on both).
 */
export function modelIdentity(run: RunSummary): string {
  const id = (dir: string, onnx: string) => `${basename(dir)}/${onnx.split('/').slice(-2).join('/')}`;
  const obs = run.model.observer;
  return obs
    ? `${id(run.model.dir, run.model.onnx)}+observer:${id(obs.dir, obs.onnx)}`
    : id(run.model.dir, run.model.onnx);
}

export type ScoringSettings = Omit<ScoreOptions, 'input' | 'out' | 'overwrite'>;

/** Scores `input` into `cacheDir` unless that already holds a finished run of the same input and model. */
export async function ensureScored(input: string, cacheDir: string, settings: ScoringSettings): Promise<ScoredInput> {
  if (isScoreDir(input)) {
    const run = readRun(input);
    return { run, scoresDir: input, errors: run.counts.errors };
  }
  if (existsSync(join(cacheDir, SCORE_FILES.run))) {
    const run = readRun(cacheDir);
    const wantModel = settings.model ?? DEFAULT_MODEL;
    const sameModel = run.model.ref === wantModel || resolve(run.model.dir) === resolve(wantModel);
    // Without --onnx-file the model's default graph (model.onnx) is wanted, not a variant scored earlier.
    const sameGraph = settings.onnxFile
      ? resolve(run.model.dir, settings.onnxFile) === resolve(run.model.onnx)
      : basename(run.model.onnx) === 'model.onnx';
    const sameFields =
      run.options.text_field === (settings.textField ?? 'text') && run.options.id_field === (settings.idField ?? null);
    const obs = run.model.observer;
    const sameObserver =
      settings.observerModel === undefined
        ? obs === undefined
        : obs !== undefined &&
          (obs.ref === settings.observerModel || resolve(obs.dir) === resolve(settings.observerModel)) &&
          (settings.observerOnnxFile
            ? resolve(obs.dir, settings.observerOnnxFile) === resolve(obs.onnx)
            : basename(obs.onnx) === 'model.onnx');
    if (run.input === resolveInputName(input) && sameModel && sameGraph && sameFields && sameObserver)
      return { run, scoresDir: cacheDir, errors: run.counts.errors };
  }
  const overwrite = existsSync(join(cacheDir, SCORE_FILES.run));
  const run = await scoreCorpus({ ...settings, input, out: cacheDir, overwrite });
  return { run, scoresDir: cacheDir, errors: run.counts.errors };
}

/**
 * The scored rows in input order, each with the requested fields of its corpus row (and, with `embeddings`, its
 * document embedding). Score rows are a subsequence of the corpus's documents (failed rows are in errors.jsonl), so
 * the join is a merge on the row number.
 */
export async function* scoredDocs(
  scored: ScoredInput,
  fields: string[],
  textField?: string,
  opts: { embeddings?: boolean } = {},
): AsyncGenerator<ScoredDoc> {
  const rows = scoreRows(scored.scoresDir, { embeddings: opts.embeddings ?? false });
  if (fields.length === 0) {
    for await (const row of rows) yield { row, fields: {} };
    return;
  }
  const corpusPath = scored.run.input;
  if (!inputExists(corpusPath)) {
    throw new UsageError(
      `fields ${fields.join(', ')} must come from the scored corpus, ${corpusPath}, which no longer exists; pass the corpus itself as input`,
    );
  }
  const runFields = corpusFields(scored.run);
  const corpus = openCorpus(corpusPath, {
    ...runFields,
    textField: textField ?? runFields.textField,
    keepFields: fields,
  });
  for await (const row of rows) {
    for (;;) {
      const next = await corpus.next();
      if (next.done)
        throw new TailguardError(
          `${join(scored.scoresDir, SCORE_FILES.scores)} has row ${row.line} (id ${row.id}), which ${corpusPath} does not: was the corpus changed after scoring?`,
        );
      const rec = next.value;
      if (rec.kind === 'doc' && rec.line === row.line) {
        if (rec.id !== row.id)
          throw new TailguardError(
            `${corpusPath} row ${rec.line} has id ${rec.id}, the score row ${row.id}: was the corpus changed after scoring?`,
          );
        yield { row, fields: rec.fields ?? {} };
        break;
      }
    }
  }
}
