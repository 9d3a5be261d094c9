/** Score directories written by hand (run.json + scores.jsonl), so detection tests control every signal. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScoreRow } from '../../src/detect/features.js';
import { gaussian, mulberry32 } from '../../src/random.js';

export const FAKE_MODEL_DIR = '/models/fake-lm';

/** A row whose every signal is `base` shifted by `shift` standard-ish units in the machine direction. */
export function fakeRow(i: number, machine: boolean, rng: () => number, separation = 1.5): ScoreRow {
  const g = () => gaussian(rng);
  const m = machine ? separation : 0;
  const words = 150 + Math.floor(100 * rng());
  return {
    id: `${machine ? 's' : 'h'}${i}`, line: i + 1, tokens: words * 1.3,
    mean_nll: 3.5 - 0.3 * m + 0.3 * g(), perplexity: 0, mean_entropy: 3.2 - 0.2 * m + 0.2 * g(), mean_log_rank: 1.5 - 0.2 * m + 0.2 * g(),
    fast_detect: 0.5 + m + g(), chars: words * 5, words, sentences: 10, sentence_length_mean: words / 10,
    burstiness: 0.6 - 0.15 * m + 0.15 * g(), sentence_nll_sd: i % 7 === 0 ? null : 0.8 - 0.1 * m + 0.1 * g(), ttr: 0.6 - 0.05 * m + 0.05 * g(), mattr: 0.75 - 0.05 * m + 0.05 * g(),
    word_entropy: 7 - 0.2 * m + 0.2 * g(), gzip_ratio: 0.45 - 0.02 * m + 0.02 * g(),
  } as ScoreRow;
}

export function fakeRows(n: number, machine: boolean, seed: number, separation = 1.5): ScoreRow[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => fakeRow(i, machine, rng, separation));
}

export function writeScoreDir(dir: string, rows: ScoreRow[], opts: { input?: string; modelDir?: string } = {}): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'scores.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const modelDir = opts.modelDir ?? FAKE_MODEL_DIR;
  writeFileSync(join(dir, 'run.json'), JSON.stringify({
    tool: { name: 'tailguard', version: 'test' }, command: 'score', input: opts.input ?? join(dir, 'gone.jsonl'), out: dir,
    model: { ref: 'fake-lm', dir: modelDir, onnx: join(modelDir, 'onnx', 'model.onnx'), source: 'directory', model_type: 'llama', hidden_size: 8, context_length: 64 },
    device: { requested: 'cpu', used: 'cpu', fallback_reasons: [] }, options: { text_field: 'text', id_field: 'id' },
    counts: { input_rows: rows.length, scored: rows.length, errors: 0 }, tokens: 0, wall_seconds: 0, tokens_per_second: 0, docs_per_second: 0,
    attempts: 1, outputs: {}, finished_at: new Date(0).toISOString(),
  }, null, 2));
  return dir;
}
