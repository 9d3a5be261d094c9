/**
 * `tailguard compare` on a simulated recursive-training loop (scripts/lib/generation-loop.ts, word-trigram models,
 * 200 documents per generation, seed 1), every generation scored by the bundled stories260k model: the replace loop
 * ends in compounding loss at generation 3 (exit 3 with --fail-on-collapse), the accumulate loop never gets there
 * (exit 0). Both loops share GEN0 and generation 1.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Ledger } from '../../src/diversity/compare.js';
import { scoreCorpus } from '../../src/score/score-corpus.js';
import { wordTokens } from '../../src/signals/text-signals.js';
import { commonBudget, countNgrams, distinctAtBudget } from '../../src/diversity/equal-size.js';
import { humanDocuments, runLoop, writeGenerations } from '../../scripts/lib/generation-loop.js';

const GENERATIONS = 3;
const human = humanDocuments(200);
const replace = runLoop(human, { regime: 'replace', generations: GENERATIONS, seed: 1 });
const accumulate = runLoop(human, { regime: 'accumulate', generations: GENERATIONS, seed: 1 });

async function compare(dirs: string[], out: string): Promise<{ status: number; stderr: string; ledger: Ledger }> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    chunks.push(String(s));
    return true;
  });
  try {
    const status = await main(['node', 'tailguard', 'compare', ...dirs, '--out', out, '--fail-on-collapse']);
    return {
      status,
      stderr: chunks.join(''),
      ledger: JSON.parse(readFileSync(join(out, 'ledger.json'), 'utf8')) as Ledger,
    };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('the simulated loop', () => {
  it('is seeded: the same options give the same text, GEN0 is the human text, generation 1 is shared', () => {
    expect(runLoop(human, { regime: 'replace', generations: 1, seed: 1 })).toEqual(replace.slice(0, 2));
    expect(runLoop(human, { regime: 'replace', generations: 1, seed: 2 })[1]).not.toEqual(replace[1]);
    expect(replace[0]).toBe(human);
    expect(accumulate[1]).toEqual(replace[1]);
    expect(replace.every((g) => g.length === 200)).toBe(true);
  });

  it('shows the two regimes in distinct-2 at equal size: replace keeps losing, accumulate levels off', () => {
    const d2 = (gens: string[][]) => {
      const words = gens.map((g) => g.map((t) => wordTokens(t)));
      const budget = commonBudget(words.map((w) => countNgrams(w, 2)));
      return words.map((w) => distinctAtBudget(w, 2, budget).value);
    };
    const r = d2(replace);
    const a = d2(accumulate);
    for (let g = 1; g <= GENERATIONS; g++) expect(r[g]!).toBeLessThan(r[g - 1]! - 0.04);
    // Accumulate: after generation 1, each loss is less than a tenth of the first.
    for (let g = 2; g <= GENERATIONS; g++) expect(a[g - 1]! - a[g]!).toBeLessThan((a[0]! - a[1]!) / 10);
  });
});

describe('tailguard compare on the loop', () => {
  let dirs: { replace: string[]; accumulate: string[] };
  let work: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tailguard-loop-'));
    const r = writeGenerations(work, replace, 'replace');
    const a = writeGenerations(work, accumulate, 'accumulate');
    const score = async (input: string) => {
      const out = input.replace(/\.jsonl$/, '');
      await scoreCorpus({ input, out, model: 'stories260k', device: 'cpu', idField: 'id' });
      return out;
    };
    const shared = [await score(r[0]!), await score(r[1]!)];
    const rest = { replace: [] as string[], accumulate: [] as string[] };
    for (let g = 2; g <= GENERATIONS; g++) {
      rest.replace.push(await score(r[g]!));
      rest.accumulate.push(await score(a[g]!));
    }
    dirs = { replace: [...shared, ...rest.replace], accumulate: [...shared, ...rest.accumulate] };
  }, 600_000); // seven corpora scored: minutes on a busy 2-core machine

  it('replace: compounding loss at generation 3, exit 3 with --fail-on-collapse', async () => {
    const { status, stderr, ledger } = await compare(dirs.replace, join(work, 'cmp-replace'));
    expect(status, stderr).toBe(3);
    expect(ledger.generations.map((g) => g.verdict?.verdict ?? 'anchor')).toEqual([
      'anchor',
      'bounded decline',
      'bounded decline',
      'compounding loss',
    ]);
    expect(ledger.flags.map((f) => f.generation)).toEqual([3]);
    expect(ledger.generations.map((g) => g.early_collapse?.length ?? null)).toEqual([null, 0, 0, 1]);
    expect(stderr).toMatch(
      /WARNING: compounding loss at generation 3: distinct-2 0\.\d{3} → 0\.\d{3}: cumulative loss/,
    );
    // The evidence adds up: the cumulative loss exceeds the bound (π²/6 × the first loss) by more than z·se.
    const d2 = ledger.generations.map((g) => g.distinct_at_budget[2]);
    const m3 = ledger.generations[3]!.verdict!.metrics.find((m) => m.metric === 'distinct-2')!;
    expect(m3.decisive).toBe(true);
    expect(m3.cumulative).toBeCloseTo(d2[0]!.value - d2[3]!.value, 12);
    expect(m3.bound).toBeCloseTo((Math.PI ** 2 / 6) * (d2[0]!.value - d2[1]!.value), 12);
    expect(m3.excess).toBeGreaterThan(ledger.verdict_rule.z * m3.excess_se);
    // Every generation measured on the same number of bigrams, the smallest generation's (rounded down to even).
    expect(new Set(d2.map((d) => d.budget)).size).toBe(1);
    expect(d2[0]!.budget).toBe(Math.min(...d2.map((d) => d.ngrams)) & ~1);
    expect(ledger.ledger_version).toBe(2);
    expect(ledger.verdict_rule.decisive).toEqual(['distinct-2']);
    expect(readFileSync(join(work, 'cmp-replace', 'report.html'), 'utf8')).toContain(
      'Compounding loss (collapse) at generation 3 of 3.',
    );
  });

  it('accumulate: bounded decline at every generation, exit 0', async () => {
    const { status, stderr, ledger } = await compare(dirs.accumulate, join(work, 'cmp-accumulate'));
    expect(status, stderr).toBe(0);
    expect(ledger.generations.map((g) => g.verdict?.verdict ?? 'anchor')).toEqual([
      'anchor',
      'bounded decline',
      'bounded decline',
      'bounded decline',
    ]);
    expect(ledger.flags).toEqual([]);
    expect(stderr).not.toMatch(/WARNING/);
    for (const g of ledger.generations.slice(2)) {
      const m = g.verdict!.metrics.find((x) => x.metric === 'distinct-2')!;
      expect(m.cumulative).toBeLessThan(m.bound);
    }
    const html = readFileSync(join(work, 'cmp-accumulate', 'report.html'), 'utf8');
    expect(html).toContain('No compounding loss: at worst a bounded decline, over 3 generations.');
    expect(html).toContain('No generation shows compounding loss.');
  });
});
