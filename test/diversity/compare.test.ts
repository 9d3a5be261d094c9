/** tailguard compare over three generations scored by the real engine: the collapsed one is compounding loss. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { compareGenerations, expectedCoverage } from '../../src/diversity/compare.js';
import type { GenerationEntry, Ledger } from '../../src/diversity/compare.js';
import { scoreCorpus } from '../../src/score/score-corpus.js';
import { ROOT, runCli } from '../helpers/cli.js';

describe('tailguard compare', () => {
  it('a generation that repeats itself is compounding loss; the ledger holds every metric', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-compare-'));
    const sample = readFileSync(join(ROOT, 'examples', 'sample.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; text: string });
    const gens = [
      sample.slice(0, 13),
      sample.slice(13),
      Array.from({ length: 13 }, (_, i) => ({
        id: `c${i}`,
        text: `Once upon a time, there was a little girl named Lily. She liked to play. She was happy. Day ${i % 2}.`,
      })),
    ];
    const dirs: string[] = [];
    for (const [g, docs] of gens.entries()) {
      writeFileSync(join(dir, `gen${g}.jsonl`), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
      await scoreCorpus({
        input: join(dir, `gen${g}.jsonl`),
        out: join(dir, `s${g}`),
        model: 'stories260k',
        device: 'cpu',
        idField: 'id',
      });
      dirs.push(join(dir, `s${g}`));
    }
    const r = runCli(['compare', ...dirs, '--out', join(dir, 'cmp'), '--k', '3', '--fail-on-collapse', '--json']);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(
      /WARNING: compounding loss at generation 2: distinct-2 0\.\d{3} → 0\.\d{3}: cumulative loss/,
    );
    const ledger = JSON.parse(readFileSync(join(dir, 'cmp', 'ledger.json'), 'utf8')) as Ledger;
    expect(ledger.generations).toHaveLength(3);
    expect(ledger.generations.map((g) => g.verdict?.verdict ?? null)).toEqual([
      null,
      'bounded decline',
      'compounding loss',
    ]);
    // The fields of ledger version 1 still say which generation collapsed.
    expect(ledger.flags.map((f) => f.generation)).toEqual([2]);
    expect(ledger.generations.map((g) => g.early_collapse?.length ?? null)).toEqual([null, 0, 1]);
    const [g0, , g2] = ledger.generations as [GenerationEntry, GenerationEntry, GenerationEntry];
    expect(g0.coverage_of_gen0).toBeNull();
    expect(g2.diversity.distinct[2]).toBeLessThan(g0.diversity.distinct[2]);
    expect(g2.diversity.self_bleu).toBeGreaterThan(g0.diversity.self_bleu);
    expect(g2.perplexity).toBeLessThan(g0.perplexity);
    for (const m of ['precision', 'recall', 'density', 'coverage'] as const)
      expect(typeof g2.coverage_of_gen0![m].value).toBe('number');
    // Every metric is in the evidence; only distinct-2 decides.
    expect(g2.verdict!.metrics.map((m) => [m.metric, m.decisive])).toEqual([
      ['distinct-1', false],
      ['distinct-2', true],
      ['distinct-3', false],
      ['vendi', false],
      ['coverage', false],
    ]);
    expect(g2.distinct_at_budget[2].value).toBeLessThan(g0.distinct_at_budget[2].value);
  });

  it('rejects bad verdict options before reading anything: library errors name the option, the CLI its flag', async () => {
    await expect(
      compareGenerations(['/nonexistent/a', '/nonexistent/b'], '/nonexistent/out', { z: 0 }),
    ).rejects.toThrow(/`z` must be a positive number/);
    await expect(
      compareGenerations(['/nonexistent/a', '/nonexistent/b'], '/nonexistent/out', { verdictMetrics: [] }),
    ).rejects.toThrow(UsageError);
    await expect(
      compareGenerations(['/nonexistent/a', '/nonexistent/b'], '/nonexistent/out', {
        // @ts-expect-error: not a metric
        verdictMetrics: ['vendi', 'bogus'],
      }),
    ).rejects.toThrow(/`verdictMetrics` must name .*unknown: bogus/);
    await expect(
      compareGenerations(['/nonexistent/a', '/nonexistent/b'], '/nonexistent/out', { replicates: 0.5 }),
    ).rejects.toThrow(/`replicates`/);
    const cli = (...args: string[]) => runCli(['compare', 'a', 'b', '--out', 'o', ...args]);
    const bad = cli('--verdict-metrics', 'distinct-2,bogus');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--verdict-metrics takes a comma-separated list of .*unknown: bogus/);
    expect(cli('--z', '0').stderr).toMatch(/--z must be a number in \(0, 10\)/);
  });

  it('coverage anchor: the expected coverage of a same-distribution sample (Naeem et al. 2020)', () => {
    // k = 1, N = M = 2: 1 − (N−1)/(2N−1) = 2/3.
    expect(expectedCoverage(2, 2, 1)).toBeCloseTo(2 / 3, 15);
    // Large N = M: 1 − 2^−k.
    expect(expectedCoverage(1e6, 1e6, 5)).toBeCloseTo(1 - 1 / 32, 5);
    expect(expectedCoverage(100, 100, 5)).toBeCloseTo(1 - (99 * 98 * 97 * 96 * 95) / (199 * 198 * 197 * 196 * 195), 15);
  });
});
