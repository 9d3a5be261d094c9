/**
 * The HTML reports in headless Chromium (see browser.ts: system or npm-packaged; driven by playwright-core): they render, the charts
 * appear, nothing reaches the network, no console errors, and document-supplied text is escaped.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RULE_SUMMARY, type Ledger } from '../../src/diversity/compare.js';
import { generationVerdicts } from '../../src/diversity/verdict.js';
import { compareHtml } from '../../src/diversity/report-html.js';
import { blobs, saveNpy } from '../coverage/synthetic.js';
import { launchChromium } from './browser.js';
import { runCli, setArgs } from '../helpers/cli.js';

const EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function open(
  file: string,
): Promise<{ errors: string[]; requests: string[]; svgs: number; text: string; pwned: unknown }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  await page.goto(pathToFileURL(file).href);
  const svgs = await page.locator('.chart svg').count();
  const text = await page.locator('body').innerText();
  const pwned = await page.evaluate(() => (globalThis as unknown as { __pwned?: unknown }).__pwned);
  await page.close();
  return { errors, requests, svgs, text, pwned };
}

const regions = (n: number, weights: number[], seed: number) =>
  blobs(n, weights, seed, { dim: 8, centresSeed: 3, centreScale: 3, spread: 0.2 });

describe('HTML reports in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-html-'));
  beforeAll(() => {
    // Reference ids and texts carry markup: the reports must show it as text.
    saveNpy(
      join(dir, 'ref'),
      regions(300, [1, 1, 1, 1], 1),
      Array.from({ length: 300 }, (_, i) => (i % 50 === 0 ? `${EVIL}${i}` : `r${i}`)),
      Array.from({ length: 300 }, (_, i) => `Reference document ${i} says <b>${EVIL}</b>.`),
    );
    saveNpy(
      join(dir, 'cand'),
      regions(200, [2, 1, 1, 0], 2),
      Array.from({ length: 200 }, (_, i) => `c${i}`),
    );
  });

  it('coverage: renders, charts (shares, coverage, 2-D map) appear, tails listed, markup escaped', async () => {
    const r = runCli(['coverage', ...setArgs(dir, { out: 'cov', clusters: 4 }), '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const p = await open(join(dir, 'cov', 'report.html'));
    expect(p.errors).toEqual([]);
    expect(p.requests).toEqual([]);
    expect(p.svgs).toBe(3);
    expect(p.text).toContain('Tails');
    expect(p.text).toContain('absent');
    expect(p.pwned).toBeUndefined();
    expect(p.text).toContain('<script>window.__pwned = 1</script>');
    expect(p.text).toMatch(/: Reference document \d+ says <b><script>/); // example texts beside their ids, as text
    // Region labels: a table of every region with its words, and how they were made.
    expect(p.text).toContain('Regions and their most distinctive words');
    expect(p.text).toContain(
      "Labels: each region's 5 most distinctive words by class-based TF-IDF over the texts of its 300 reference documents.",
    );
  });

  it('weights: renders the weight distribution and the region histograms, and what cannot be fixed', async () => {
    const r = runCli(['weights', ...setArgs(dir, { out: 'w', clusters: 4 }), '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const p = await open(join(dir, 'w', 'report.html'));
    expect(p.errors).toEqual([]);
    expect(p.svgs).toBe(2);
    expect(p.text).toMatch(/no weight can bring it back/);
    expect(p.text).toContain('over the texts of its 300 reference documents');
    expect(p.text).toMatch(/: Reference document \d+ says <b><script>/);
    expect(p.pwned).toBeUndefined();
  });

  it('compare: renders the verdict per generation, the evidence, the charts and the flags, escaped', async () => {
    const div = (d2: number, v: number) => ({
      documents: 10,
      distinct: { 1: 0.5, 2: d2, 3: 0.9, 4: 0.95 },
      compression_ratio: 0.4,
      self_bleu: 0.2,
      self_bleu_sample: 10,
      vendi: v,
      vendi_ci: { lo: v - 1, hi: v + 1 },
      vendi_sample: 10,
      mean_cosine_distance: 0.5,
    });
    const eq = (value: number) => ({ value, se: 0.005, budget: 1000, ngrams: 1200, replicates: 50 });
    const atBudget = (d2: number) => ({ 1: eq(0.3), 2: eq(d2), 3: eq(0.9) });
    const m = (x: number) => ({ value: x, ci: { lo: x - 0.05, hi: x + 0.05 } });
    const tuned = { ef: 100, recall: 1, sample: 10, target: 0.98, reached: true, tried: [{ ef: 100, recall: 1 }] };
    const d2 = [0.8, 0.7, 0.5];
    const verdicts = generationVerdicts([
      { metric: 'distinct-2', decisive: true, points: d2.map((value) => ({ value, se: 0.005 })) },
      { metric: 'vendi', decisive: false, points: [9, 8, 4].map((value) => ({ value, se: 0.5 })) },
    ]);
    const gen = (g: number, source: string) => ({
      generation: g,
      source,
      documents: 10,
      perplexity: 40 - 5 * g,
      diversity: div(d2[g]!, 9 - g),
      distinct_at_budget: atBudget(d2[g]!),
      coverage_of_gen0: g
        ? {
            precision: m(0.9),
            recall: m(0.5),
            density: m(1.1),
            coverage: m(0.6),
            ef_tuning: { reference: tuned, candidate: tuned },
          }
        : null,
      flagged_synthetic: g ? { share: 0.3, detector: 'test' } : null,
      verdict: g ? verdicts[g - 1]! : null,
      early_collapse: g ? (g === 2 ? ['x'] : []) : null,
    });
    const ledger: Ledger = {
      tool: 'tailguard',
      command: 'compare',
      ledger_version: 2,
      k: 5,
      verdict_rule: {
        z: 1.96,
        bound_factor: Math.PI ** 2 / 6,
        decisive: ['distinct-2'],
        budget: { 1: 1000, 2: 1000, 3: 1000 },
        replicates: 50,
        coverage_anchor: 0.97,
        summary: RULE_SUMMARY,
      },
      flags: [{ generation: 2, reasons: [`distinct-2 0.800 → 0.500 ${EVIL}`] }],
      generations: [gen(0, `/data/${EVIL}`), gen(1, '/data/gen1'), gen(2, '/data/gen2')],
    };
    writeFileSync(join(dir, 'compare.html'), await compareHtml(ledger));
    const p = await open(join(dir, 'compare.html'));
    expect(p.errors).toEqual([]);
    expect(p.requests).toEqual([]);
    expect(p.svgs).toBe(3);
    expect(p.text).toMatch(/Verdict per generation\s+Compounding loss \(collapse\) at generation 2 of 2\./);
    expect(p.text).toMatch(/^1\tbounded decline\tdistinct-2\tdistinct-2: 0\.700 ± 0\.005/m);
    expect(p.text).toMatch(/^2\tcompounding loss\tdistinct-2\tdistinct-2: 0\.500 ± 0\.005/m);
    expect(p.text).toMatch(/^2\tvendi\tno \(evidence\)/m);
    expect(p.text).toContain('generation 2: distinct-2 0.800 → 0.500 <script>');
    expect(p.pwned).toBeUndefined();
  });
});
