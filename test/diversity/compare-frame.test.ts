/**
 * compare in GEN0's frame, on a constructed anisotropic example: every embedding shares one large direction, GEN0 and
 * a fresh draw vary in all 8 dimensions, a collapsed generation in only two. As loaded, Vendi hardly tells them apart;
 * whitened in GEN0's frame, the collapsed generation's Vendi falls and the fresh draw's holds. --no-whiten gives
 * exactly the metrics computed on the embeddings as loaded (what compare did before the frame).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareGenerations, type Ledger } from '../../src/diversity/compare.js';
import { corpusDiversity } from '../../src/diversity/metrics.js';
import { loadVectors } from '../../src/coverage/vectors.js';
import { npyHeader } from '../../src/io/npy-writer.js';
import { gaussian, mulberry32 } from '../../src/random.js';
import { scoreCorpus } from '../../src/score/score-corpus.js';
import { ROOT, runCli } from '../helpers/cli.js';

const D = 8;
const N = 13;

/** N rows: 8 along the first axis plus N(0, 0.3²) noise in the dimensions `active`. */
function embeddings(seed: number, active: number[]): Float32Array {
  const rng = mulberry32(seed);
  const out = new Float32Array(N * D);
  for (let r = 0; r < N; r++) {
    out[r * D] = 8;
    for (const j of active) out[r * D + j] = out[r * D + j]! + 0.3 * gaussian(rng);
  }
  return out;
}

function writeNpy(path: string, data: Float32Array): void {
  writeFileSync(path, Buffer.concat([Buffer.from(npyHeader(N, D)), Buffer.from(data.buffer)]));
}

describe('compare in the anchor frame', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-compare-frame-'));
  const dirs: string[] = [];
  const all = Array.from({ length: D }, (_, j) => j);
  beforeAll(async () => {
    const sample = readFileSync(join(ROOT, 'examples', 'sample.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const gens = [sample.slice(0, N), sample.slice(13, 13 + N), sample.slice(0, N)];
    const vectors = [embeddings(1, all), embeddings(2, all), embeddings(3, [1, 2])];
    for (const [g, lines] of gens.entries()) {
      writeFileSync(join(dir, `gen${g}.jsonl`), lines.join('\n') + '\n');
      await scoreCorpus({
        input: join(dir, `gen${g}.jsonl`),
        out: join(dir, `s${g}`),
        model: 'stories260k',
        device: 'cpu',
        idField: 'id',
      });
      // The constructed embeddings replace the model's (same rows, another width: compare only needs them equal).
      writeNpy(join(dir, `s${g}`, 'embeddings.npy'), vectors[g]!);
      dirs.push(join(dir, `s${g}`));
    }
  }, 120_000);

  it('whitened, the collapsed generation loses Vendi and the fresh draw keeps it; as loaded, neither moves much', async () => {
    const white = await compareGenerations(dirs, join(dir, 'white'), { k: 3 });
    const raw = await compareGenerations(dirs, join(dir, 'raw'), { k: 3, whiten: false });
    const v = (l: Ledger) => l.generations.map((g) => g.diversity.vendi);
    const [w0, w1, w2] = v(white) as [number, number, number];
    const [r0, r1, r2] = v(raw) as [number, number, number];
    // As loaded: one shared direction dominates, every Vendi is close to 1.
    for (const x of [r0, r1, r2]) expect(x).toBeLessThan(1.2);
    // In GEN0's frame (seeded: 6.81, 4.66, 2.54): GEN0 and the fresh draw spread over many directions, the collapsed
    // one over about two. GEN0 sits higher than the fresh draw: 13 rows in 8-d fit their own frame (an anchor should
    // have many more documents than dimensions).
    expect(w0).toBeGreaterThan(6);
    expect(w1).toBeGreaterThan(4);
    expect(w2).toBeLessThan(2.6);
    expect(w2 / w1).toBeLessThan(0.6);
    // As loaded, the collapsed generation's Vendi is within 10% of the fresh draw's.
    expect(r2 / r1).toBeGreaterThan(0.9);
    // Mean cosine distance: near 0 as loaded, near 1 (centred) in the frame.
    expect(raw.generations[0]!.diversity.mean_cosine_distance).toBeLessThan(0.01);
    expect(white.generations[0]!.diversity.mean_cosine_distance).toBeGreaterThan(0.9);
    expect(white.frame).toMatchObject({ method: 'whiten', reused: false, fitted_on: { documents: N } });
    expect(existsSync(join(dir, 'white', 'anchor-frame.json'))).toBe(true);
    // Verdicts rest on distinct-2 (texts), which the frame does not touch.
    expect(white.generations.map((g) => g.distinct_at_budget)).toEqual(
      raw.generations.map((g) => g.distinct_at_budget),
    );
  }, 120_000);

  it('--no-whiten: exactly the metrics of the embeddings as loaded; no frame file', async () => {
    const raw = await compareGenerations(dirs, join(dir, 'raw2'), { k: 3, whiten: false });
    expect(raw.frame?.method).toBe('none');
    expect(existsSync(join(dir, 'raw2', 'anchor-frame.json'))).toBe(false);
    for (const [g, d] of dirs.entries()) {
      const texts = readFileSync(join(dir, `gen${g}.jsonl`), 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { text: string }).text);
      expect(raw.generations[g]!.diversity).toEqual(corpusDiversity(texts, loadVectors(d), {}));
    }
  }, 120_000);

  it('a saved frame is reused (the same numbers); CLI refuses --anchor-frame with --no-whiten', async () => {
    const first = JSON.parse(readFileSync(join(dir, 'white', 'ledger.json'), 'utf8')) as Ledger;
    const again = await compareGenerations(dirs, join(dir, 'again'), {
      k: 3,
      anchorFrame: join(dir, 'white', 'anchor-frame.json'),
    });
    expect(again.frame).toMatchObject({
      method: 'whiten',
      reused: true,
      file: join(dir, 'white', 'anchor-frame.json'),
    });
    expect(again.generations.map((g) => g.diversity)).toEqual(first.generations.map((g) => g.diversity));
    const r = runCli([
      'compare',
      ...dirs,
      '--out',
      join(dir, 'cli'),
      '--no-whiten',
      '--anchor-frame',
      join(dir, 'white', 'anchor-frame.json'),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--anchor-frame needs whitening on/);
  }, 120_000);
});
