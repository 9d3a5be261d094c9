/**
 * detect-dev (../shared/eval/detect-dev: human texts and machine continuations from the Fast-DetectGPT study) as the
 * detection benches read it. A pair goes to calibration or evaluation by a hash of its human text, so the same human
 * text is on the same side for every generator and no row is ever in both. Ids are the SHA-1 of each text.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScoreRow } from '../../src/detect/features.js';
import { NpyRowReader } from '../../src/io/npy-writer.js';
import type { Rng } from '../../src/random.js';

export const DEV = '../shared/eval/detect-dev';

export interface Item {
  id: string;
  label: 0 | 1;
  dataset: string;
  generator: string;
  split: 'cal' | 'eval';
  index: number;
}

const sha = (s: string) => createHash('sha1').update(s).digest('hex');

export function loadDev(): { items: Item[]; texts: Map<string, string> } {
  const items: Item[] = [];
  const texts = new Map<string, string>();
  for (const exp of ['exp_main', 'exp_gpt3to4']) {
    for (const f of readdirSync(join(DEV, exp))
      .filter((x) => x.endsWith('.raw_data.json'))
      .sort()) {
      const [dataset, generator] = f.replace('.raw_data.json', '').split('_') as [string, string];
      const raw = JSON.parse(readFileSync(join(DEV, exp, f), 'utf8')) as { original: string[]; sampled: string[] };
      raw.original.forEach((h, i) => {
        const m = raw.sampled[i]!;
        const split = parseInt(sha(h).slice(0, 8), 16) % 2 === 0 ? 'cal' : 'eval';
        for (const [text, label] of [
          [h, 0],
          [m, 1],
        ] as const) {
          const id = sha(text);
          texts.set(id, text);
          items.push({ id, label, dataset, generator, split, index: i });
        }
      });
    }
  }
  return { items, texts };
}

/** Score rows by id, each with its embedding (the score directory's embeddings.npy). */
export function readScores(dir: string): Map<string, ScoreRow> {
  const rows = new Map<string, ScoreRow>();
  const npy = NpyRowReader.open(join(dir, 'embeddings.npy'));
  for (const line of readFileSync(join(dir, 'scores.jsonl'), 'utf8').split('\n'))
    if (line) {
      const r = JSON.parse(line) as ScoreRow;
      r.embedding = npy.read()!;
      rows.set(r.id, r);
    }
  npy.close();
  return rows;
}

/** The first n of a full Fisher–Yates shuffle of `pool` (from its end), the draw both detection benches make. */
export function drawFrom<T>(rng: Rng, pool: readonly T[], n: number): T[] {
  const a = [...pool];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, n);
}
