/**
 * Diversity of a corpus (word tokens as in signals/text-signals.ts; embeddings L2-normalised):
 *   distinct-n        distinct n-grams / n-grams, over the whole corpus (n = 1..4); n-grams do not cross documents
 *   compression       gzip -9 bytes / UTF-8 bytes of the documents joined by newlines (a sample when given):
 *                     lower = more redundancy across documents
 *   self-BLEU         mean over the sampled documents of BLEU-4 of the document against all the other sampled
 *                     documents as references (Zhu et al. 2018, Texygen): uniform weights, clipped counts against the
 *                     per-n-gram maximum over references, the closest reference length for the brevity penalty,
 *                     +1 smoothing of the n-gram precisions for n > 1 (Lin & Och 2004): higher = more alike
 *   Vendi score       exp(−Σ λ log λ) over the eigenvalues λ of K/m, K the cosine-similarity matrix of m sampled
 *                     embeddings (Friedman & Dieng 2023): the effective number of distinct documents. Computed from
 *                     the d×d matrix XᵀX/m, which has the same non-zero eigenvalues (Jacobi rotations); the CI is
 *                     the score ± 1.96 bootstrap standard errors over resampled document sets: a percentile interval
 *                     would sit below the score, as a resample's repeated rows lower it. Vendi grows with the sample
 *                     size m on diverse sets, so generations are compared at equal m (vendi_sample)
 *   mean cosine distance  1 − mean_{i≠j} x_i·x_j = 1 − (|Σ x_i|² − m) / (m(m − 1)), exactly, over all documents
 */
import { gzipSync } from 'node:zlib';
import { bootstrapSe, symmetricEigenvalues, type Interval } from '../stats/index.js';
import { mulberry32, sampleIndices } from '../random.js';
import { wordTokens } from '../signals/text-signals.js';

export function distinctN(docs: string[][], n: number): number {
  const seen = new Set<string>();
  let total = 0;
  for (const words of docs) {
    for (let i = 0; i + n <= words.length; i++) {
      seen.add(words.slice(i, i + n).join('\u0001'));
      total++;
    }
  }
  return total ? seen.size / total : 0;
}

export function compressionRatio(texts: string[]): number {
  const bytes = Buffer.from(texts.join('\n'), 'utf8');
  return bytes.length ? gzipSync(bytes, { level: 9 }).length / bytes.length : 0;
}

function ngramCounts(words: string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= words.length; i++) {
    const g = words.slice(i, i + n).join('\u0001');
    m.set(g, (m.get(g) ?? 0) + 1);
  }
  return m;
}

/** Self-BLEU-4 of tokenized documents (each against all the others). */
export function selfBleu(docs: string[][]): number {
  const m = docs.length;
  if (m < 2) return 0;
  const counts = [1, 2, 3, 4].map((n) => docs.map((d) => ngramCounts(d, n)));
  // Per n-gram, the two largest counts over documents (and who holds the largest): max over "the others" in O(1).
  const top = counts.map((perDoc) => {
    const t = new Map<string, { a: number; who: number; b: number }>();
    perDoc.forEach((c, doc) => {
      for (const [g, k] of c) {
        const e = t.get(g) ?? { a: 0, who: -1, b: 0 };
        if (k > e.a) t.set(g, { a: k, who: doc, b: e.a });
        else if (k > e.b) t.set(g, { ...e, b: k });
        else if (!t.has(g)) t.set(g, e);
      }
    });
    return t;
  });
  const lengths = docs.map((d) => d.length);
  let sum = 0;
  for (let h = 0; h < m; h++) {
    let logP = 0;
    for (let n = 0; n < 4; n++) {
      let clipped = 0;
      let total = 0;
      for (const [g, k] of counts[n]![h]!) {
        const e = top[n]!.get(g)!;
        const maxOther = e.who === h ? e.b : e.a;
        clipped += Math.min(k, maxOther);
        total += k;
      }
      const p = n === 0 ? (total ? clipped / total : 0) : (clipped + 1) / (total + 1);
      logP += Math.log(Math.max(p, 1e-12)) / 4;
    }
    const c = lengths[h]!;
    let r = Infinity;
    for (let o = 0; o < m; o++) if (o !== h && Math.abs(lengths[o]! - c) < Math.abs(r - c)) r = lengths[o]!;
    const bp = c === 0 ? 0 : c >= r ? 1 : Math.exp(1 - r / c);
    sum += bp * Math.exp(logP);
  }
  return sum / m;
}

/** Vendi score of the rows `idx` of an L2-normalised N×d matrix. */
export function vendiScore(data: Float32Array, dim: number, idx: ArrayLike<number>): number {
  const m = idx.length;
  const g = new Float64Array(dim * dim);
  for (let t = 0; t < m; t++) {
    const o = idx[t]! * dim;
    for (let i = 0; i < dim; i++) {
      const xi = data[o + i]!;
      if (xi === 0) continue;
      for (let j = i; j < dim; j++) g[i * dim + j] = g[i * dim + j]! + xi * data[o + j]!;
    }
  }
  for (let i = 0; i < dim; i++)
    for (let j = i; j < dim; j++) {
      g[i * dim + j] = g[i * dim + j]! / m;
      g[j * dim + i] = g[i * dim + j]!;
    }
  let h = 0;
  for (const l of symmetricEigenvalues(g, dim)) if (l > 1e-12) h -= l * Math.log(l);
  return Math.exp(h);
}

export function meanCosineDistance(data: Float32Array, dim: number): number {
  const m = data.length / dim;
  if (m < 2) return 0;
  const s = new Float64Array(dim);
  for (let i = 0; i < m; i++) for (let j = 0; j < dim; j++) s[j] = s[j]! + data[i * dim + j]!;
  const sq = s.reduce((a, v) => a + v * v, 0);
  return 1 - (sq - m) / (m * (m - 1));
}

export interface Diversity {
  documents: number;
  distinct: { 1: number; 2: number; 3: number; 4: number };
  compression_ratio: number;
  self_bleu: number;
  self_bleu_sample: number;
  vendi: number;
  vendi_ci: Interval;
  vendi_sample: number;
  mean_cosine_distance: number;
}

/** Vendi's interval: ±1.96 bootstrap standard errors (95%). */
const VENDI_Z = 1.96;

/** Every metric above for one corpus; samples (seeded) bound the cost of self-BLEU and Vendi. */
export function corpusDiversity(
  texts: string[],
  embeddings: { data: Float32Array; dim: number },
  opts: { bleuSample?: number; vendiSample?: number; seed?: number } = {},
): Diversity {
  const rng = mulberry32(opts.seed ?? 1);
  const n = texts.length;
  const sample = (k: number) => sampleIndices(rng, n, k);
  const words = texts.map((t) => wordTokens(t));
  const bleuIdx = sample(opts.bleuSample ?? 300);
  const vendiIdx = sample(opts.vendiSample ?? 1000);
  const vendiRows = Int32Array.from(vendiIdx);
  const vendi = vendiScore(embeddings.data, embeddings.dim, vendiRows);
  const vendiSe = bootstrapSe(
    (b) =>
      vendiScore(
        embeddings.data,
        embeddings.dim,
        Array.from(b, (t) => vendiRows[t]!),
      ),
    vendiRows.length,
    { resamples: 30, seed: opts.seed ?? 1 },
  );
  return {
    documents: n,
    distinct: { 1: distinctN(words, 1), 2: distinctN(words, 2), 3: distinctN(words, 3), 4: distinctN(words, 4) },
    compression_ratio: compressionRatio(texts),
    self_bleu: selfBleu(bleuIdx.map((i) => words[i]!)),
    self_bleu_sample: bleuIdx.length,
    vendi,
    vendi_ci: { lo: vendi - VENDI_Z * vendiSe, hi: vendi + VENDI_Z * vendiSe },
    vendi_sample: vendiRows.length,
    mean_cosine_distance: meanCosineDistance(embeddings.data, embeddings.dim),
  };
}
