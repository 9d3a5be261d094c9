/**
 * A recursive-training loop in the spirit of Shumailov et al. 2024 (Nature, "AI models collapse when trained on
 * recursively generated data") and Gerstgrasser et al. 2024 ("Is model collapse inevitable?"): word-trigram language
 * models, each trained on text and sampled to make the next generation's text.
 *
 *   GEN0        the human documents
 *   replace     generation g (g ≥ 1) is sampled from a model trained on generation g−1 only
 *   accumulate  generation g is sampled from a model trained on GEN0 and every generation before g
 *
 * Generation 1 is the same in both regimes (a model of GEN0 alone). The model interpolates maximum-likelihood
 * trigram, bigram and unigram estimates with fixed weights `lambdas` (Jelinek–Mercer): the unigram share makes new
 * word pairs, the trigram share copies the training text. Tokens are words and the marks . , ; : ? ! (case kept);
 * a document ends at the end-of-document token or at `maxTokens`. Everything is seeded (mulberry32): the same options
 * give the same text.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32, type Rng } from '../../src/random.js';

export type Regime = 'replace' | 'accumulate';

/** Passages of State of the Union addresses (public domain; see its README). */
export const HUMAN_FIXTURE = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'human-sotu', 'sotu.jsonl');

/** `n` passages of the human fixture spread over all of it (every ⌊total/n⌋-th), or all of them. */
export function humanDocuments(n?: number, path: string = HUMAN_FIXTURE): string[] {
  const all = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { text: string }).text);
  if (n === undefined || n >= all.length) return all;
  const step = Math.floor(all.length / n);
  return all.filter((_, i) => i % step === 0).slice(0, n);
}

/** Writes one JSONL corpus (`{id, text}` per line) per generation: DIR/<prefix><g>.jsonl; returns the paths. */
export function writeGenerations(dir: string, gens: string[][], prefix = 'gen'): string[] {
  return gens.map((texts, g) => {
    const path = join(dir, `${prefix}${g}.jsonl`);
    writeFileSync(path, texts.map((text, i) => JSON.stringify({ id: `g${g}-${i}`, text })).join('\n') + '\n');
    return path;
  });
}

export interface LoopOptions {
  regime: Regime;
  /** Generations after GEN0. */
  generations: number;
  /** Documents sampled per generation (default: as many as GEN0 has). */
  documents?: number;
  seed?: number;
  /** Trigram, bigram, unigram weights (default 0.8, 0.15, 0.05); they must sum to 1. */
  lambdas?: [number, number, number];
  /** Longest sampled document in tokens (default 200). */
  maxTokens?: number;
}

const TOKEN = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*|[.,;:?!]/gu;
const BOS = '<s>';
const EOS = '</s>';

export function tokenize(text: string): string[] {
  return Array.from(text.matchAll(TOKEN), (m) => m[0]);
}

export function detokenize(tokens: string[]): string {
  return tokens.map((t, i) => (i > 0 && !/^[.,;:?!]$/.test(t) ? ` ${t}` : t)).join('');
}

/** Counts of the next token after a context, with a cumulative table built on first use for sampling. */
class Continuations {
  readonly counts = new Map<string, number>();
  total = 0;
  private table: { tokens: string[]; cumulative: Float64Array } | null = null;

  add(token: string): void {
    this.counts.set(token, (this.counts.get(token) ?? 0) + 1);
    this.total++;
    this.table = null;
  }

  draw(rng: Rng): string {
    if (!this.table) {
      const tokens = [...this.counts.keys()];
      const cumulative = new Float64Array(tokens.length);
      let s = 0;
      tokens.forEach((t, i) => (cumulative[i] = s += this.counts.get(t)!));
      this.table = { tokens, cumulative };
    }
    const { tokens, cumulative } = this.table;
    const u = rng() * this.total;
    let lo = 0;
    let hi = tokens.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return tokens[lo]!;
  }
}

export class TrigramModel {
  private readonly tri = new Map<string, Continuations>();
  private readonly bi = new Map<string, Continuations>();
  private readonly uni = new Continuations();

  constructor(private readonly lambdas: [number, number, number] = [0.8, 0.15, 0.05]) {
    if (lambdas.some((l) => l < 0) || Math.abs(lambdas[0] + lambdas[1] + lambdas[2] - 1) > 1e-9)
      throw new Error(`lambdas must be non-negative and sum to 1, got ${lambdas.join(', ')}`);
  }

  /** Adds one tokenized document to the counts. */
  train(tokens: string[]): void {
    const seq = [BOS, BOS, ...tokens, EOS];
    for (let i = 2; i < seq.length; i++) {
      const w = seq[i]!;
      at(this.tri, `${seq[i - 2]}\u0001${seq[i - 1]}`).add(w);
      at(this.bi, seq[i - 1]!).add(w);
      this.uni.add(w);
    }
  }

  /** One document: the interpolation is sampled as a mixture (pick an order by λ, backing off to a seen context). */
  sample(rng: Rng, maxTokens: number): string[] {
    const out: string[] = [];
    let u = BOS;
    let v = BOS;
    while (out.length < maxTokens) {
      const r = rng();
      const tri = this.tri.get(`${u}\u0001${v}`);
      const bi = this.bi.get(v);
      const dist = r < this.lambdas[0] && tri ? tri : r < this.lambdas[0] + this.lambdas[1] && bi ? bi : this.uni;
      const w = dist.draw(rng);
      if (w === EOS) break;
      out.push(w);
      u = v;
      v = w;
    }
    return out;
  }
}

function at(m: Map<string, Continuations>, key: string): Continuations {
  let c = m.get(key);
  if (!c) m.set(key, (c = new Continuations()));
  return c;
}

/** The texts of GEN0 (the human documents, unchanged) and of each generation after it. */
export function runLoop(human: string[], opts: LoopOptions): string[][] {
  const rng = mulberry32(opts.seed ?? 1);
  const n = opts.documents ?? human.length;
  const maxTokens = opts.maxTokens ?? 200;
  const gens: string[][] = [human];
  let tokenized = human.map(tokenize);
  let model = new TrigramModel(opts.lambdas);
  for (const t of tokenized) model.train(t);
  for (let g = 1; g <= opts.generations; g++) {
    const sampled: string[][] = [];
    while (sampled.length < n) {
      const doc = model.sample(rng, maxTokens);
      if (doc.length > 0) sampled.push(doc);
    }
    gens.push(sampled.map(detokenize));
    tokenized = sampled;
    if (opts.regime === 'replace') model = new TrigramModel(opts.lambdas);
    for (const t of tokenized) model.train(t);
  }
  return gens;
}
