/**
 * coverage in the reference's frame: the numbers are those of exact search on rows mapped by the frame fitted on the
 * reference (computed here apart from coverageRun); --no-whiten gives those of the rows as loaded (what coverage did
 * before the frame); a reused index brings its frame, and refuses --no-whiten.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyAnchorFrame, fitAnchorFrame } from '../../src/coverage/anchor-frame.js';
import { coverageRun } from '../../src/coverage/coverage-run.js';
import { exactPrdc } from '../../src/coverage/exact/exact-prdc.js';
import { loadVectors } from '../../src/coverage/vectors.js';
import { blobs, saveNpy } from './synthetic.js';
import { runCli, setArgs } from '../helpers/cli.js';

// Anisotropic: the cluster centres sit far out along shared directions (centreScale 3), the spread is small.
const clustered = (n: number, weights: number[], seed: number) =>
  blobs(n, weights, seed, { dim: 8, centresSeed: 99, centreScale: 3, spread: 0.35 });
const values = (r: {
  precision: { value: number };
  recall: { value: number };
  density: { value: number };
  coverage: { value: number };
}) => [r.precision.value, r.recall.value, r.density.value, r.coverage.value];

describe('coverage in the anchor frame', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-cov-frame-'));
  saveNpy(join(dir, 'ref'), clustered(300, [1, 1, 1], 5));
  saveNpy(join(dir, 'cand'), clustered(200, [1, 1, 0], 6));

  it('whitened: exact search on rows mapped by the reference-fitted frame; --no-whiten: on the rows as loaded', async () => {
    const ref = loadVectors(join(dir, 'ref.npy'));
    const cand = loadVectors(join(dir, 'cand.npy'));
    const raw = await exactPrdc(ref, cand, { k: 5 });
    const frame = fitAnchorFrame(ref, 'cosine', join(dir, 'ref.npy'));
    const mref = { ...ref, data: Float32Array.from(ref.data) };
    const mcand = { ...cand, data: Float32Array.from(cand.data) };
    applyAnchorFrame(frame, mref, 'cosine');
    applyAnchorFrame(frame, mcand, 'cosine');
    const framed = await exactPrdc(mref, mcand, { k: 5 });
    const run = (out: string, whiten: boolean) =>
      coverageRun({
        reference: join(dir, 'ref.npy'),
        candidate: join(dir, 'cand.npy'),
        out: join(dir, out),
        clusters: 3,
        search: 'exact',
        threads: 1,
        whiten,
      });
    const white = await run('white', true);
    const plain = await run('plain', false);
    expect(values(white)).toEqual(values(framed));
    expect(values(plain)).toEqual(values(raw));
    expect(values(framed)).not.toEqual(values(raw));
    expect(white.frame).toMatchObject({
      method: 'whiten',
      reused: false,
      file: join(dir, 'white', 'anchor-frame.json'),
    });
    expect(plain.frame.method).toBe('none');
    expect(existsSync(join(dir, 'white', 'anchor-frame.json'))).toBe(true);
    expect(existsSync(join(dir, 'plain', 'anchor-frame.json'))).toBe(false);
  }, 120_000);

  it('CLI: a reused index brings its frame (same numbers); --no-whiten with it is refused (exit 2)', () => {
    const cli = (out: string, ...more: string[]) =>
      runCli(['coverage', ...setArgs(dir, { out, clusters: 3 }), '--quiet', ...more]);
    const report = (out: string) => JSON.parse(readFileSync(join(dir, out, 'report.json'), 'utf8'));
    expect(cli('first', '--search', 'hnsw').status).toBe(0);
    const again = cli('again', '--reference-index', join(dir, 'first', 'reference.hnsw'));
    expect(again.status, again.stderr).toBe(0);
    expect(values(report('again'))).toEqual(values(report('first')));
    expect(report('again').frame).toMatchObject({ reused: true, file: join(dir, 'first', 'anchor-frame.json') });
    const mixed = cli('mixed', '--no-whiten', '--reference-index', join(dir, 'first', 'reference.hnsw'));
    expect(mixed.status).toBe(2);
    expect(mixed.stderr).toMatch(
      /reference\.hnsw was built in the anchor frame .*anchor-frame\.json: it cannot be used with whitening off \(--no-whiten\)/,
    );
    // An index built as loaded has no frame beside it: reused with whitening on, refused; with --no-whiten, as before.
    expect(cli('plain', '--search', 'hnsw', '--no-whiten').status).toBe(0);
    const noFrame = cli('noframe', '--reference-index', join(dir, 'plain', 'reference.hnsw'));
    expect(noFrame.status).toBe(2);
    expect(noFrame.stderr).toMatch(/has no anchor frame beside it .*--no-whiten\), or drop --reference-index/);
    const asBefore = cli('asbefore', '--no-whiten', '--reference-index', join(dir, 'plain', 'reference.hnsw'));
    expect(asBefore.status, asBefore.stderr).toBe(0);
    expect(values(report('asbefore'))).toEqual(values(report('plain')));
  }, 180_000);
});
