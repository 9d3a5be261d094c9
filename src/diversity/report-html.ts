/** The HTML report of `compare`: the verdict per generation first, then the evidence (report/html.ts renders). */
import { chartSvg, ci, escapeHtml, page, pct, table, type Cell, type Section } from '../report/html.js';
import type { Ledger } from './ledger.js';
import type { Verdict } from './verdict.js';

const VERDICT_STYLE: Record<Verdict, string> = {
  stable: 'text-align:left;background:#e3f4e1;color:#1d5e1a',
  'bounded decline': 'text-align:left;background:#fff1d6;color:#7a4d00',
  'compounding loss': 'text-align:left;background:#fde0de;color:#a40000;font-weight:600',
};
const f3 = (x: number) => (Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(3));
const pm = (x: number, se: number) => `${f3(x)} ± ${f3(se)}`;

/** The verdict of every generation at a glance: a coloured badge, what decided it, and the decisive evidence. */
function verdictTable(l: Ledger): string {
  const head = [
    'gen',
    'verdict',
    'decided by',
    'value ± se',
    'loss since previous',
    'cumulative loss ± se',
    'bound',
    'excess over bound ± se',
  ];
  const rows = l.generations.map((g) => {
    const v = g.verdict;
    if (!v) return `<tr><td>${g.generation}</td><td>anchor</td><td></td>${decisiveCells(l, g.generation)}</tr>`;
    return `<tr><td>${g.generation}</td><td style="${VERDICT_STYLE[v.verdict]}">${escapeHtml(v.verdict)}</td><td>${escapeHtml(v.decided_by.join(', ') || '—')}</td>${decisiveCells(l, g.generation)}</tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

/** One sentence: the worst verdict and where compounding loss starts. */
function headline(l: Ledger): string {
  const verdicts = l.generations.flatMap((g) => (g.verdict ? [g.verdict] : []));
  const compounding = verdicts.filter((v) => v.verdict === 'compounding loss').map((v) => v.generation);
  if (compounding.length)
    return `Compounding loss (collapse) at generation${compounding.length > 1 ? 's' : ''} ${compounding.join(', ')} of ${verdicts.length}.`;
  return verdicts.some((v) => v.verdict === 'bounded decline')
    ? `No compounding loss: at worst a bounded decline, over ${verdicts.length} generations.`
    : `Stable over ${verdicts.length} generations.`;
}

/** Cells of the first decisive metric that carries the generation's verdict (or the first decisive one). */
function decisiveCells(l: Ledger, generation: number): string {
  const g = l.generations[generation]!;
  const td = (x: string) => `<td>${escapeHtml(x)}</td>`;
  if (!g.verdict) {
    const first = l.generations[1]?.verdict?.metrics.find((m) => m.decisive);
    return td(first ? `${first.metric}: ${f3(first.value + first.cumulative)}` : '') + td('').repeat(4);
  }
  const m =
    g.verdict.metrics.find((x) => x.decisive && x.verdict === g.verdict!.verdict) ??
    g.verdict.metrics.find((x) => x.decisive)!;
  return (
    td(`${m.metric}: ${pm(m.value, m.se)}`) +
    td(f3(m.loss)) +
    td(pm(m.cumulative, m.cumulative_se)) +
    td(f3(m.bound)) +
    td(pm(m.excess, m.excess_se))
  );
}

export async function compareHtml(l: Ledger): Promise<string> {
  const r = l.verdict_rule;
  const long = l.generations.flatMap((g) => [
    { generation: g.generation, metric: 'distinct-2', value: g.diversity.distinct[2] },
    { generation: g.generation, metric: 'self-BLEU', value: g.diversity.self_bleu },
    { generation: g.generation, metric: 'mean cosine distance', value: g.diversity.mean_cosine_distance },
    ...(g.coverage_of_gen0
      ? [{ generation: g.generation, metric: 'coverage of GEN0', value: g.coverage_of_gen0.coverage.value }]
      : []),
  ]);
  const lines = await chartSvg({
    width: 620,
    height: 240,
    data: { values: long },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'generation', type: 'ordinal' },
      y: { field: 'value', type: 'quantitative' },
      color: { field: 'metric', type: 'nominal' },
    },
  });
  // distinct-2 at equal size with ±z·se bars, coloured by verdict; dashed: GEN0's value less the accumulation bound.
  const eq = l.generations.map((g) => {
    const d = g.distinct_at_budget[2];
    return {
      generation: g.generation,
      value: d.value,
      lo: d.value - r.z * d.se,
      hi: d.value + r.z * d.se,
      verdict: g.verdict?.verdict ?? 'anchor',
    };
  });
  const d2 = l.generations[1]?.verdict?.metrics.find((m) => m.metric === 'distinct-2');
  const floor = d2 ? l.generations[0]!.distinct_at_budget[2].value - d2.bound : null;
  const trend = await chartSvg({
    width: 620,
    height: 220,
    layer: [
      {
        data: { values: eq },
        mark: 'errorbar',
        encoding: {
          x: { field: 'generation', type: 'ordinal' },
          y: {
            field: 'lo',
            type: 'quantitative',
            title: `distinct-2 on ${r.budget[2]} bigrams`,
            scale: { zero: false },
          },
          y2: { field: 'hi' },
        },
      },
      {
        data: { values: eq },
        mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          x: { field: 'generation', type: 'ordinal' },
          y: { field: 'value', type: 'quantitative' },
          color: {
            field: 'verdict',
            type: 'nominal',
            scale: {
              domain: ['anchor', 'stable', 'bounded decline', 'compounding loss'],
              range: ['#4c78a8', '#54a24b', '#e8a33d', '#e45756'],
            },
          },
        },
      },
      ...(floor !== null
        ? [
            {
              data: { values: [{ floor }] },
              mark: { type: 'rule' as const, strokeDash: [6, 4], color: '#888' },
              encoding: { y: { field: 'floor', type: 'quantitative' as const } },
            },
          ]
        : []),
    ],
  });
  const vendi = await chartSvg({
    width: 620,
    height: 200,
    data: {
      values: l.generations.map((g) => ({
        generation: g.generation,
        vendi: g.diversity.vendi,
        lo: g.diversity.vendi_ci.lo,
        hi: g.diversity.vendi_ci.hi,
      })),
    },
    layer: [
      {
        mark: 'errorbar',
        encoding: {
          x: { field: 'generation', type: 'ordinal' },
          y: { field: 'lo', type: 'quantitative', title: 'Vendi score' },
          y2: { field: 'hi' },
        },
      },
      {
        mark: { type: 'point', filled: true },
        encoding: { x: { field: 'generation', type: 'ordinal' }, y: { field: 'vendi', type: 'quantitative' } },
      },
    ],
  });
  const evidence = l.generations.flatMap((g) =>
    (g.verdict?.metrics ?? []).map((m): Cell[] => [
      g.generation,
      m.metric,
      m.decisive ? 'yes' : 'no (evidence)',
      pm(m.value, m.se),
      f3(m.loss),
      pm(m.cumulative, m.cumulative_se),
      f3(m.bound),
      pm(m.excess, m.excess_se),
      m.verdict === 'compounding loss' ? { text: m.verdict, class: 'warn' } : m.verdict,
    ]),
  );
  const sections: Section[] = [
    {
      heading: 'Verdict per generation',
      html:
        `<p>${escapeHtml(headline(l))}</p>` +
        verdictTable(l) +
        `<p class="note">Rule: ${escapeHtml(r.summary)} z = ${r.z}; decisive: ${escapeHtml(r.decisive.join(', '))}; distinct-n measured on the same number of n-grams in every generation (${r.budget[1]} words, ${r.budget[2]} bigrams, ${r.budget[3]} trigrams), its noise from ${r.replicates} half-sample replicates.</p>`,
    },
    {
      heading: 'distinct-2 at equal size (bars ± z·se; dashed: GEN0 less the accumulation bound)',
      html: `<div class="chart">${trend}</div>`,
    },
    {
      heading: 'Compounding loss',
      html:
        l.flags.length === 0
          ? '<p>No generation shows compounding loss.</p>'
          : `<ul>${l.flags.map((f) => `<li class="warn">generation ${f.generation}: ${escapeHtml(f.reasons.join('; '))}</li>`).join('')}</ul>`,
    },
    {
      heading: 'Evidence per metric',
      html:
        table(
          [
            'gen',
            'metric',
            'decisive',
            'value ± se',
            'loss since previous',
            'cumulative loss ± se',
            'bound',
            'excess over bound ± se',
            'verdict',
          ],
          evidence,
        ) +
        `<p class="note">Vendi's se comes from its bootstrap interval, coverage's from its interval; GEN0's coverage is the ${f3(r.coverage_anchor)} a fresh sample of its own distribution would get (Naeem et al. 2020).</p>`,
    },
    {
      heading: 'Generations',
      html: table(
        [
          'gen',
          'documents',
          'perplexity',
          'distinct-1/2/3/4',
          'distinct-1/2/3 at equal size',
          'compression',
          'self-BLEU',
          'Vendi (95% CI)',
          'coverage of GEN0',
          'flagged synthetic',
          'source',
        ],
        l.generations.map((g) => [
          g.generation,
          g.documents,
          g.perplexity.toFixed(1),
          [1, 2, 3, 4].map((n) => g.diversity.distinct[n as 1 | 2 | 3 | 4].toFixed(3)).join(' / '),
          ([1, 2, 3] as const).map((n) => g.distinct_at_budget[n].value.toFixed(3)).join(' / '),
          g.diversity.compression_ratio.toFixed(3),
          g.diversity.self_bleu.toFixed(3),
          `${g.diversity.vendi.toFixed(1)} (${g.diversity.vendi_ci.lo.toFixed(1)}–${g.diversity.vendi_ci.hi.toFixed(1)})`,
          g.coverage_of_gen0 ? ci(g.coverage_of_gen0.coverage) : 'anchor',
          g.flagged_synthetic ? pct(g.flagged_synthetic.share) : '—',
          g.source,
        ]),
      ),
    },
    { heading: 'Diversity and coverage across generations', html: `<div class="chart">${lines}</div>` },
    { heading: 'Vendi score', html: `<div class="chart">${vendi}</div>` },
  ];
  return page('tailguard compare', 'GEN0 is the human anchor.', sections);
}
