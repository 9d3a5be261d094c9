/** Synthetic embeddings with known regions (for the coverage, weights and report tests), and .npy files of them. */
import { writeFileSync } from 'node:fs';
import type { VectorSet } from '../../src/coverage/vectors.js';
import { normaliseRows } from '../../src/coverage/vectors.js';
import { npyHeader } from '../../src/io/npy-writer.js';
import { gaussian, mulberry32 } from '../../src/random.js';

export interface BlobOptions {
  dim: number;
  /** Seed of the cluster centres (shared by sets that should live in one space). */
  centresSeed: number;
  /** Centres are centreScale · N(0, I); points are centre + spread · N(0, I), then L2-normalised. */
  centreScale: number;
  spread: number;
  idPrefix?: string;
}

/** n points from a mixture whose cluster c has weight weights[c] (0: the set lacks that region). */
export function blobs(n: number, weights: number[], seed: number, o: BlobOptions): VectorSet & { cluster: number[] } {
  const crng = mulberry32(o.centresSeed);
  const centres = weights.map(() => Array.from({ length: o.dim }, () => o.centreScale * gaussian(crng)));
  const rng = mulberry32(seed);
  const data = new Float32Array(n * o.dim);
  const cluster: number[] = [];
  const total = weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < n; i++) {
    let u = rng() * total;
    let c = 0;
    while (u > weights[c]!) u -= weights[c++]!;
    cluster.push(c);
    for (let j = 0; j < o.dim; j++) data[i * o.dim + j] = centres[c]![j]! + o.spread * gaussian(rng);
  }
  normaliseRows(data, o.dim);
  return { source: 'synthetic', ids: cluster.map((_, i) => `${o.idPrefix ?? 'p'}${i}`), dim: o.dim, data, cluster };
}

/** X.npy (float32 N×d) and, with ids, the X.jsonl sidecar that names its rows. */
/** Writes X.npy and, given ids, the X.jsonl sidecar (`id`, and `text` when texts are given). */
export function saveNpy(
  pathNoExt: string,
  set: { data: Float32Array; dim: number },
  ids?: string[],
  texts?: string[],
): void {
  writeFileSync(
    `${pathNoExt}.npy`,
    Buffer.concat([
      Buffer.from(npyHeader(set.data.length / set.dim, set.dim)),
      Buffer.from(set.data.buffer, set.data.byteOffset, set.data.byteLength),
    ]),
  );
  if (ids)
    writeFileSync(
      `${pathNoExt}.jsonl`,
      ids.map((id, i) => JSON.stringify(texts ? { id, text: texts[i] } : { id })).join('\n') + '\n',
    );
}
