/** Score directories written by hand (run.json, scores.jsonl, embeddings.npy), so detection tests control every signal. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScoreRow } from '../../src/detect/features.js';
import { npyHeader } from '../../src/io/npy-writer.js';
import { gaussian, mulberry32 } from '../../src/random.js';

export const FAKE_MODEL_DIR = '/models/fake-lm';

/** A row whose every signal is `base` shifted by `shift` standard-ish units in the machine direction. */
export function fakeRow(i: number, machine: boolean, rng: () => number, separation = 1.5): ScoreRow {
  const g = () => gaussian(rng);
  const m = machine ? separation : 0;
  const words = 150 + Math.floor(100 * rng());
  return {
    id: `${machine ? 's' : 'h'}${i}`,
    line: i + 1,
    tokens: words * 1.3,
    mean_nll: 3.5 - 0.3 * m + 0.3 * g(),
    perplexity: 0,
    mean_entropy: 3.2 - 0.2 * m + 0.2 * g(),
    mean_log_rank: 1.5 - 0.2 * m + 0.2 * g(),
    fast_detect: 0.5 + m + g(),
    chars: words * 5,
    words,
    sentences: 10,
    sentence_length_mean: words / 10,
    burstiness: 0.6 - 0.15 * m + 0.15 * g(),
    sentence_nll_sd: i % 7 === 0 ? null : 0.8 - 0.1 * m + 0.1 * g(),
    ttr: 0.6 - 0.05 * m + 0.05 * g(),
    mattr: 0.75 - 0.05 * m + 0.05 * g(),
    word_entropy: 7 - 0.2 * m + 0.2 * g(),
    gzip_ratio: 0.45 - 0.02 * m + 0.02 * g(),
    rank_top1: 0.35 + 0.03 * m + 0.03 * g(),
    rank_top10: 0.65 + 0.03 * m + 0.03 * g(),
    rank_top100: 0.85 + 0.01 * m + 0.02 * g(),
    rank_top1000: 0.97 + 0.01 * g(),
    entropy_q10: 0.5 + 0.1 * g(),
    entropy_q50: 3 - 0.2 * m + 0.2 * g(),
    entropy_q90: 5.5 + 0.3 * g(),
    nll_sd: 2.5 - 0.2 * m + 0.2 * g(),
    entropy_sd: 1.8 - 0.1 * m + 0.1 * g(),
    surprise_sd: 2 - 0.2 * m + 0.2 * g(),
    embedding: fakeEmbedding(rng, m),
  } as ScoreRow;
}

export const FAKE_DIM = 8;

/** A unit vector: noise, with machine text shifted along the first coordinate. */
function fakeEmbedding(rng: () => number, m: number): Float32Array {
  const v = Array.from({ length: FAKE_DIM }, (_, j) => gaussian(rng) + (j === 0 ? 0.5 * m : 0));
  const norm = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / norm);
}

export function fakeRows(n: number, machine: boolean, seed: number, separation = 1.5): ScoreRow[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => fakeRow(i, machine, rng, separation));
}

/**
 * Rows of one domain whose likelihood signals move with `domain`: machine rows of domain 'flip' are LESS likely than
 * human ones (NLL up, Fast-DetectGPT down), the opposite of every other domain.
 */
export function domainRows(domain: string, n: number, machine: boolean, seed: number): ScoreRow[] {
  const rng = mulberry32(seed);
  const g = () => gaussian(rng);
  const sign = domain === 'flip' ? -1 : 1;
  return fakeRows(n, false, seed).map((r, i) => {
    const shift = machine ? 1.5 * sign : 0;
    const nll = 3.5 - 0.3 * shift + 0.3 * g();
    return {
      ...r,
      id: `${domain}-${machine ? 'm' : 'h'}${i}`,
      mean_nll: nll,
      mean_log_rank: nll / 2 + 0.1 * g(),
      mean_entropy: nll - 0.3 + 0.2 * g(),
      fast_detect: shift + g(),
    };
  });
}

export function writeScoreDir(dir: string, rows: ScoreRow[], opts: { input?: string; modelDir?: string } = {}): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'scores.jsonl'), rows.map(({ embedding: _, ...r }) => JSON.stringify(r)).join('\n') + '\n');
  const dim = rows[0]?.embedding?.length ?? FAKE_DIM;
  const data = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => data.set(r.embedding ?? new Float32Array(dim), i * dim));
  writeFileSync(join(dir, 'embeddings.npy'), Buffer.concat([npyHeader(rows.length, dim), new Uint8Array(data.buffer)]));
  const modelDir = opts.modelDir ?? FAKE_MODEL_DIR;
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify(
      {
        tool: { name: 'tailguard', version: 'test' },
        command: 'score',
        input: opts.input ?? join(dir, 'gone.jsonl'),
        out: dir,
        model: {
          ref: 'fake-lm',
          dir: modelDir,
          onnx: join(modelDir, 'onnx', 'model.onnx'),
          source: 'directory',
          model_type: 'llama',
          hidden_size: 8,
          context_length: 64,
        },
        device: { requested: 'cpu', used: 'cpu', fallback_reasons: [] },
        options: { text_field: 'text', id_field: 'id' },
        counts: { input_rows: rows.length, scored: rows.length, errors: 0 },
        tokens: 0,
        wall_seconds: 0,
        tokens_per_second: 0,
        docs_per_second: 0,
        attempts: 1,
        outputs: {},
        finished_at: new Date(0).toISOString(),
      },
      null,
      2,
    ),
  );
  return dir;
}
