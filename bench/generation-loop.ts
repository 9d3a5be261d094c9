/**
 * Generation-loop bench: the recursive-training simulation of scripts/lib/generation-loop.ts (word-trigram models;
 * replace: each generation trains on its predecessor's samples; accumulate: on GEN0 and every earlier generation),
 * larger than the test's: all 576 passages of the human fixture per generation, 6 generations, for each seed. Every
 * corpus is scored with the model (default: the bundled stories260k), then `tailguard compare --fail-on-collapse` runs
 * on each loop (in-process, through the CLI's own entry point). Writes bench/results/generation-loop.md: per
 * generation the metrics with their intervals, the evidence and the verdicts, the exit statuses, and the machine.
 *
 *   node --import tsx bench/generation-loop.ts [--generations 6] [--documents 576] [--seeds 1,2,3] [--model stories260k]
 *     [--work DIR] [--reuse] [--out bench/results/generation-loop.md]
 *
 * --reuse keeps score directories already in --work (same seed, same documents: the simulation is deterministic).
 * Each loop is compared three times: in GEN0's whitened frame (the default), with its top directions removed, and with
 * --no-whiten; the whitening section gives Vendi, mean cosine distance and coverage of GEN0 per generation for each.
 *
 * Expected (the issue's acceptance): replace exits 3 with compounding loss from generation 3 on; accumulate exits 0.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { main } from '../src/cli/main.js';
import type { GenerationEntry, Ledger } from '../src/diversity/compare.js';
import { distinctN } from '../src/diversity/metrics.js';
import { scoreCorpus } from '../src/score/score-corpus.js';
import { isScoreDir } from '../src/score/score-dir.js';
import { wordTokens } from '../src/signals/text-signals.js';
import { machineDescription } from './lib/machine.js';
import { humanDocuments, runLoop, writeGenerations, type Regime } from '../scripts/lib/generation-loop.js';

const ROOT = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    generations: { type: 'string', default: '6' },
    documents: { type: 'string', default: '576' },
    seeds: { type: 'string', default: '1,2,3' },
    model: { type: 'string', default: 'stories260k' },
    work: { type: 'string' },
    reuse: { type: 'boolean', default: false },
    out: { type: 'string', default: join(ROOT, 'bench', 'results', 'generation-loop.md') },
  },
});
const G = Number(values.generations);
const seeds = values.seeds.split(',').map(Number);
const work = values.work ?? mkdtempSync(join(tmpdir(), 'tailguard-generation-loop-'));
mkdirSync(work, { recursive: true });
const human = humanDocuments(Number(values.documents));

async function score(input: string): Promise<string> {
  const out = input.replace(/\.jsonl$/, '');
  if (values.reuse && isScoreDir(out) && existsSync(join(out, 'embeddings.npy'))) return out;
  await scoreCorpus({ input, out, model: values.model, device: 'cpu', idField: 'id', overwrite: true });
  return out;
}

async function compare(
  dirs: string[],
  out: string,
  extra: string[] = [],
): Promise<{ status: number; ledger: Ledger; seconds: number }> {
  const t = Date.now();
  const status = await main([
    'node',
    'tailguard',
    'compare',
    ...dirs,
    '--out',
    out,
    '--fail-on-collapse',
    '--quiet',
    ...extra,
  ]);
  return {
    status,
    ledger: JSON.parse(readFileSync(join(out, 'ledger.json'), 'utf8')) as Ledger,
    seconds: (Date.now() - t) / 1000,
  };
}

const f3 = (x: number) => x.toFixed(3);
const ci = (v: number, lo: number, hi: number, d = 3) => `${v.toFixed(d)} (${lo.toFixed(d)}–${hi.toFixed(d)})`;

function table(ledger: Ledger, texts: string[][]): string[] {
  const z = ledger.verdict_rule.z;
  const rows = [
    '| gen | docs | words | distinct-2 (raw) | distinct-2 at budget ± z·se | loss | cumulative ± z·se | bound | excess ± z·se | distinct-1 / distinct-3 at budget | Vendi (95% CI) | coverage of GEN0 (95% CI) | perplexity | verdict |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const g of ledger.generations) {
    const words = texts[g.generation]!.map((t) => wordTokens(t));
    const d = g.distinct_at_budget;
    const m = g.verdict?.metrics.find((x) => x.metric === 'distinct-2');
    const cov = g.coverage_of_gen0?.coverage;
    rows.push(
      `| ${g.generation} | ${g.documents} | ${words.reduce((a, w) => a + w.length, 0)} | ${f3(distinctN(words, 2))} | ${f3(d[2].value)} ± ${f3(z * d[2].se)} | ` +
        `${m ? f3(m.loss) : ''} | ${m ? `${f3(m.cumulative)} ± ${f3(z * m.cumulative_se)}` : ''} | ${m ? f3(m.bound) : ''} | ${m ? `${f3(m.excess)} ± ${f3(z * m.excess_se)}` : ''} | ` +
        `${f3(d[1].value)} / ${f3(d[3].value)} | ${ci(g.diversity.vendi, g.diversity.vendi_ci.lo, g.diversity.vendi_ci.hi, 2)} | ${cov ? ci(cov.value, cov.ci.lo, cov.ci.hi) : 'anchor'} | ` +
        `${g.perplexity.toFixed(1)} | ${verdictOf(g)} |`,
    );
  }
  return rows;
}

const verdictOf = (g: GenerationEntry) =>
  g.verdict ? (g.verdict.verdict === 'compounding loss' ? '**compounding loss**' : g.verdict.verdict) : 'anchor';

/** The frames each loop is compared in: the default (whitened), the top directions removed, none. */
const FRAMES: { name: string; flags: string[] }[] = [
  { name: 'whiten (default)', flags: [] },
  { name: 'remove-top', flags: ['--frame-method', 'remove-top'] },
  { name: 'none (--no-whiten)', flags: ['--no-whiten'] },
];
/** Per frame, per regime, per seed: the ledger. */
const byFrame = new Map<string, Map<Regime, Ledger[]>>(FRAMES.map((f) => [f.name, new Map()]));

function frameRows(name: string): string[] {
  const rows = [
    '| regime | gen | Vendi (95% CI) | mean cosine distance | coverage of GEN0 (95% CI) |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const regime of ['replace', 'accumulate'] as const) {
    const ledger = byFrame.get(name)!.get(regime)![0]!;
    for (const g of ledger.generations) {
      const cov = g.coverage_of_gen0?.coverage;
      rows.push(
        `| ${regime} | ${g.generation} | ${ci(g.diversity.vendi, g.diversity.vendi_ci.lo, g.diversity.vendi_ci.hi, 2)} | ${f3(g.diversity.mean_cosine_distance)} | ${cov ? ci(cov.value, cov.ci.lo, cov.ci.hi) : 'anchor'} |`,
      );
    }
  }
  return rows;
}

/** Vendi GEN0 → last generation per seed, for the summary across seeds. */
function vendiTrend(name: string, regime: Regime): string {
  return byFrame
    .get(name)!
    .get(regime)!
    .map((l) => l.generations.map((g) => g.diversity.vendi.toFixed(2)).join(' → '))
    .join('<br>');
}

/**
 * The issue's acceptance, per seed, in the whitened frame: Vendi at generation 1 and G with their intervals, per loop.
 * GEN0 is left out: the frame is fitted on it, so it is measured in-sample (docs/coverage.md, the anchor frame).
 */
function acceptance(): string[] {
  const at = (l: Ledger, g: number) => {
    const d = l.generations[g]!.diversity;
    return ci(d.vendi, d.vendi_ci.lo, d.vendi_ci.hi, 2);
  };
  const white = byFrame.get(FRAMES[0]!.name)!;
  return white.get('replace')!.map((rep, i) => {
    const acc = white.get('accumulate')![i]!;
    const change = (l: Ledger) =>
      (100 * (l.generations[G]!.diversity.vendi / l.generations[1]!.diversity.vendi - 1)).toFixed(1);
    return (
      `Seed ${seeds[i]}, whitened Vendi, generation 1 → ${G}: replace ${at(rep, 1)} → ${at(rep, G)} (${change(rep)}%), ` +
      `accumulate ${at(acc, 1)} → ${at(acc, G)} (${change(acc)}%).`
    );
  });
}

const started = Date.now();
const lines: string[] = [];
const summary: string[] = [
  '| seed | regime | exit | verdicts, generation 1 → ' +
    G +
    ' | compounding loss from | distinct-2 at budget, GEN0 → ' +
    G +
    ' |',
  '| ---: | --- | ---: | --- | ---: | --- |',
];
let pass = true;
for (const seed of seeds) {
  const loops: Record<Regime, string[][]> = {
    replace: runLoop(human, { regime: 'replace', generations: G, seed }),
    accumulate: runLoop(human, { regime: 'accumulate', generations: G, seed }),
  };
  const paths = {
    replace: writeGenerations(work, loops.replace, `s${seed}-replace`),
    accumulate: writeGenerations(work, loops.accumulate, `s${seed}-accumulate`),
  };
  const t = Date.now();
  // GEN0 and generation 1 are the same in both loops: scored once.
  const shared = [await score(paths.replace[0]!), await score(paths.replace[1]!)];
  const dirs: Record<Regime, string[]> = { replace: [...shared], accumulate: [...shared] };
  for (let g = 2; g <= G; g++)
    for (const r of ['replace', 'accumulate'] as const) dirs[r].push(await score(paths[r][g]!));
  const scoring = (Date.now() - t) / 1000;
  for (const regime of ['replace', 'accumulate'] as const) {
    for (const f of FRAMES.slice(1)) {
      const other = await compare(dirs[regime], join(work, `s${seed}-cmp-${regime}-${f.flags.at(-1)}`), f.flags);
      const m = byFrame.get(f.name)!;
      m.set(regime, [...(m.get(regime) ?? []), other.ledger]);
    }
    const { status, ledger, seconds } = await compare(dirs[regime], join(work, `s${seed}-cmp-${regime}`));
    const m0 = byFrame.get(FRAMES[0]!.name)!;
    m0.set(regime, [...(m0.get(regime) ?? []), ledger]);
    const verdicts = ledger.generations.slice(1).map((g) => g.verdict!.verdict);
    const first = verdicts.indexOf('compounding loss');
    const d2 = ledger.generations.map((g) => f3(g.distinct_at_budget[2].value)).join(' → ');
    summary.push(
      `| ${seed} | ${regime} | ${status} | ${verdicts.join(', ')} | ${first < 0 ? '—' : first + 1} | ${d2} |`,
    );
    const expected =
      regime === 'replace'
        ? status === 3 && verdicts.slice(2).every((v) => v === 'compounding loss')
        : status === 0 && first < 0;
    pass &&= expected;
    if (seed === seeds[0]) {
      lines.push(`### ${regime}, seed ${seed}: exit ${status}`, '');
      lines.push(...table(ledger, loops[regime]), '');
      lines.push(
        `distinct-n at equal size on ${ledger.verdict_rule.budget[1]} words / ${ledger.verdict_rule.budget[2]} bigrams / ${ledger.verdict_rule.budget[3]} trigrams per generation, ${ledger.verdict_rule.replicates} half-sample replicates; z = ${ledger.verdict_rule.z}. compare took ${seconds.toFixed(1)} s.`,
        '',
      );
    }
  }
  process.stderr.write(`seed ${seed}: scored ${2 + 2 * (G - 1)} corpora in ${scoring.toFixed(1)} s\n`);
}

const doc = [
  '# Generation loop: replace vs accumulate',
  '',
  `\`node --import tsx bench/generation-loop.ts --generations ${G} --documents ${human.length} --seeds ${seeds.join(',')} --model ${values.model}\``,
  '',
  `Machine: ${machineDescription(ROOT)}. Total ${((Date.now() - started) / 1000).toFixed(0)} s.`,
  '',
  `Simulation (scripts/lib/generation-loop.ts): GEN0 = ${human.length} passages of State of the Union addresses (test/fixtures/human-sotu);`,
  `each generation ${human.length} documents sampled from an interpolated word-trigram model (λ = 0.8 / 0.15 / 0.05);`,
  'replace trains generation g on generation g−1 only, accumulate on GEN0 and generations 1..g−1. Each corpus scored',
  `with ${values.model}; verdicts from \`tailguard compare --fail-on-collapse\` (decisive metric: distinct-2 at equal size).`,
  '',
  `Result: ${pass ? 'as expected — replace exits 3 with compounding loss from generation 3 on, accumulate exits 0, for every seed' : '**NOT as expected** (see the summary)'}.`,
  '',
  '## Summary',
  '',
  ...summary,
  '',
  `## Per generation (seed ${seeds[0]})`,
  '',
  'Loss, cumulative loss, bound and excess are those of distinct-2 at equal size; compounding loss when the excess is',
  'above its z·se (and the cumulative loss above its own). Vendi and coverage are evidence only (mean-pooled embeddings).',
  "Each compare measures distinct-n on its own loop's smallest generation's n-gram count, so GEN0's value differs a",
  'little between the two loops.',
  '',
  ...lines,
  '## Whitening: the embedding metrics in the anchor frame',
  '',
  "Each loop compared in GEN0's frame (anchor-frame.ts): whiten = ZCA whitening of GEN0's covariance with shrinkage",
  'ε = 0.1 × its average variance (the default); remove-top = centring and projecting out the principal directions',
  'with over 10 × the average variance; none = `--no-whiten`, the embeddings as loaded. Verdicts are unchanged',
  '(distinct-2 decides); only Vendi, mean cosine distance and coverage move.',
  '',
  ...acceptance(),
  '',
  '| frame | regime | Vendi, GEN0 → ' + G + ' (one line per seed) |',
  '| --- | --- | --- |',
  ...FRAMES.flatMap((f) =>
    (['replace', 'accumulate'] as const).map((r) => `| ${f.name} | ${r} | ${vendiTrend(f.name, r)} |`),
  ),
  '',
  ...FRAMES.flatMap((f) => [`### ${f.name}, seed ${seeds[0]}`, '', ...frameRows(f.name), '']),
];
writeFileSync(values.out, doc.join('\n'));
process.stderr.write(`wrote ${values.out}\n`);
process.exitCode = pass ? 0 : 1;
