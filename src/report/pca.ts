/** The first two principal components of a sample of L2-normalised rows (power iteration with deflation), for 2-D maps. */
import { mulberry32 } from '../random.js';

export function pca2(
  data: Float32Array,
  dim: number,
  rows: number[],
  seed = 1,
): { project(i: number, src?: Float32Array): [number, number] } {
  const m = rows.length;
  const mean = new Float64Array(dim);
  for (const r of rows) for (let j = 0; j < dim; j++) mean[j] = mean[j]! + data[r * dim + j]! / m;
  const rng = mulberry32(seed);
  const comps: Float64Array[] = [];
  for (let c = 0; c < 2; c++) {
    let v = Float64Array.from({ length: dim }, () => rng() - 0.5);
    for (let it = 0; it < 60; it++) {
      const next = new Float64Array(dim);
      for (const r of rows) {
        let dot = 0;
        for (let j = 0; j < dim; j++) dot += (data[r * dim + j]! - mean[j]!) * v[j]!;
        for (let j = 0; j < dim; j++) next[j] = next[j]! + dot * (data[r * dim + j]! - mean[j]!);
      }
      for (const p of comps) {
        let dot = 0;
        for (let j = 0; j < dim; j++) dot += next[j]! * p[j]!;
        for (let j = 0; j < dim; j++) next[j] = next[j]! - dot * p[j]!;
      }
      const norm = Math.sqrt(next.reduce((a, x) => a + x * x, 0)) || 1;
      v = next.map((x) => x / norm);
    }
    comps.push(v);
  }
  return {
    project(i, src = data) {
      const out: [number, number] = [0, 0];
      for (let c = 0; c < 2; c++) {
        let dot = 0;
        for (let j = 0; j < dim; j++) dot += (src[i * dim + j]! - mean[j]!) * comps[c]![j]!;
        out[c] = dot;
      }
      return out;
    },
  };
}
