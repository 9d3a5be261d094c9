/** The HTML reports of `coverage`, `weights` and `compare` (html.ts renders; these choose what to show). */
import { hnswFields, type CoverageReport, type HnswReportFields } from '../coverage/coverage-run.js';
import { shortOfTarget } from '../coverage/ef-tuning.js';
import type { Ledger } from '../diversity/ledger.js';
import type { Verdict } from '../diversity/verdict.js';
import type { WeightsReport } from '../weights/report.js';
import { chartSvg, escapeHtml, page, table, type Cell, type Section } from './html.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const ci = (m: { value: number; ci: { lo: number; hi: number } }) => `${m.value.toFixed(3)} (${m.ci.lo.toFixed(3)}–${m.ci.hi.toFixed(3)})`;

export interface MapPoint {
  x: number;
  y: number;
  set: 'reference' | 'candidate';
  tail: boolean;
  id: string;
}

export async function coverageHtml(r: CoverageReport, map: MapPoint[]): Promise<string> {
  const regionRows = r.clusters.flatMap((c) => [
    { region: `#${c.cluster}`, set: 'reference', share: c.reference_share },
    { region: `#${c.cluster}`, set: 'candidate', share: c.candidate_share },
  ]);
  const shares = await chartSvg({
    width: 760, height: 220, data: { values: regionRows }, mark: 'bar',
    encoding: {
      x: { field: 'region', type: 'nominal', sort: null, title: 'reference region (k-means)' },
      xOffset: { field: 'set' }, y: { field: 'share', type: 'quantitative', axis: { format: '%' } },
      color: { field: 'set', type: 'nominal', scale: { domain: ['reference', 'candidate'], range: ['#4c78a8', '#f58518'] } },
    },
  });
  const coverage = await chartSvg({
    width: 760, height: 160, data: { values: r.clusters.map((c) => ({ region: `#${c.cluster}`, coverage: c.coverage, tail: r.tails.includes(c.cluster) ? 'tail' : 'ok' })) },
    mark: 'bar',
    encoding: {
      x: { field: 'region', type: 'nominal', sort: null }, y: { field: 'coverage', type: 'quantitative', scale: { domain: [0, 1] } },
      color: { field: 'tail', type: 'nominal', scale: { domain: ['ok', 'tail'], range: ['#72b7b2', '#e45756'] } },
    },
  });
  const scatter = await chartSvg({
    width: 560, height: 420, data: { values: map.map((p) => ({ ...p, kind: p.set === 'candidate' ? 'candidate' : p.tail ? 'reference (tail region)' : 'reference' })) },
    mark: { type: 'point', filled: true, size: 14, opacity: 0.6 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: 'PC 1' }, y: { field: 'y', type: 'quantitative', title: 'PC 2' },
      color: { field: 'kind', type: 'nominal', scale: { domain: ['reference', 'reference (tail region)', 'candidate'], range: ['#9ecae9', '#e45756', '#f58518'] }, legend: { labelLimit: 240 } },
    },
  });
  const sections: Section[] = [
    {
      heading: 'Fidelity and diversity',
      html: table(['metric', 'value (95% CI)'], [['precision', ci(r.precision)], ['recall', ci(r.recall)], ['density', ci(r.density)], ['coverage', ci(r.coverage)]]) +
        `<p class="note">k = ${r.k}; ${r.reference.documents} reference and ${r.candidate.documents} candidate documents, ${r.dim}-d, ${metricNote(r)}; ${searchNote(r)}</p>`,
    },
    { heading: 'Share of documents per reference region', html: `<div class="chart">${shares}</div>` },
    { heading: 'Coverage per region (tails in red)', html: `<div class="chart">${coverage}</div>` },
    { heading: 'Map of the embedding space (first two principal components of a sample)', html: `<div class="chart">${scatter}</div>` },
    {
      heading: 'Tails: regions where the candidate is thin or absent',
      html: r.tails.length === 0
        ? '<p>None: every region holds at least half its reference share of candidate documents.</p>'
        : table(['region', 'status', 'reference share', 'candidate share', 'coverage', 'example reference documents'],
          r.tails.map((t) => r.clusters[t]!).map((c) => [`#${c.cluster}`, c.status, pct(c.reference_share), pct(c.candidate_share), pct(c.coverage), examplesCell(c)])),
    },
  ];
  return page('tailguard coverage', `Reference: ${escapeHtml(r.reference.source)}<br>Candidate: ${escapeHtml(r.candidate.source)}`, sections);
}

/** Example documents of a region: each id with the start of its text when the report found it. */
function examplesCell(c: { examples: string[]; example_texts?: (string | null)[] }): Cell {
  return { class: 'examples', text: c.examples.map((id, t) => (c.example_texts?.[t] ? `${id}: ${c.example_texts[t]}` : id)).join('\n') };
}

export async function weightsHtml(r: WeightsReport, weights: ArrayLike<number>): Promise<string> {
  const hist = await chartSvg({
    width: 620, height: 200, data: { values: Array.from(weights, (w) => ({ w })) }, mark: 'bar',
    encoding: { x: { field: 'w', type: 'quantitative', bin: { maxbins: 40 }, title: 'weight' }, y: { aggregate: 'count', type: 'quantitative', title: 'documents' } },
  });
  const regions = await chartSvg({
    width: 760, height: 220,
    data: { values: r.per_cluster.flatMap((c) => [
      { region: `#${c.cluster}`, histogram: 'reference', share: c.reference_share },
      { region: `#${c.cluster}`, histogram: 'candidate', share: c.candidate_share },
      { region: `#${c.cluster}`, histogram: 'weighted candidate', share: c.weighted_share },
    ]) },
    mark: 'bar',
    encoding: {
      x: { field: 'region', type: 'nominal', sort: null }, xOffset: { field: 'histogram' }, y: { field: 'share', type: 'quantitative', axis: { format: '%' } },
      color: { field: 'histogram', type: 'nominal', scale: { domain: ['reference', 'candidate', 'weighted candidate'], range: ['#4c78a8', '#f58518', '#54a24b'] } },
    },
  });
  const sections: Section[] = [
    {
      heading: 'Summary',
      html: table(['', ''], [
        ['total-variation distance to the reference, before', r.tv_before.toFixed(3)], ['after weighting', r.tv_after.toFixed(3)],
        ['weights (min / median / max)', `${r.weight_summary.min.toFixed(3)} / ${r.weight_summary.median.toFixed(3)} / ${r.weight_summary.max.toFixed(3)}`],
        ['capped at', `${r.max_weight} (${r.capped_documents} documents)`], ['down-weighted by p_synthetic', r.down_weighted_by_p_synthetic ? 'yes' : 'no'],
      ]),
    },
    { heading: 'Weight distribution', html: `<div class="chart">${hist}</div>` },
    { heading: 'Region histograms', html: `<div class="chart">${regions}</div>` },
    {
      heading: 'What the weights cannot fix',
      html: r.cannot_fix.length === 0 ? '<p>Every reference region has candidate documents to up-weight.</p>' : `<ul>${r.cannot_fix.map((c) => `<li class="warn">${escapeHtml(c.note)}</li>`).join('')}</ul>`,
    },
    { heading: 'Per region', html: table(['region', 'status', 'reference', 'candidate', 'weighted', 'mean weight', 'examples'], r.per_cluster.map((c) => [`#${c.cluster}`, c.status, pct(c.reference_share), pct(c.candidate_share), pct(c.weighted_share), c.mean_weight.toFixed(3), examplesCell(c)])) },
  ];
  return page('tailguard weights', `Reference: ${escapeHtml(r.reference.source)}<br>Candidate: ${escapeHtml(r.candidate.source)}`, sections);
}

const VERDICT_STYLE: Record<Verdict, string> = {
  stable: 'text-align:left;background:#e3f4e1;color:#1d5e1a',
  'bounded decline': 'text-align:left;background:#fff1d6;color:#7a4d00',
  'compounding loss': 'text-align:left;background:#fde0de;color:#a40000;font-weight:600',
};
const f3 = (x: number) => (Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(3));
const pm = (x: number, se: number) => `${f3(x)} ± ${f3(se)}`;

/** The verdict of every generation at a glance: a coloured badge, what decided it, and the decisive evidence. */
function verdictTable(l: Ledger): string {
  const head = ['gen', 'verdict', 'decided by', 'value ± se', 'loss since previous', 'cumulative loss ± se', 'bound', 'excess over bound ± se'];
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
  if (compounding.length) return `Compounding loss (collapse) at generation${compounding.length > 1 ? 's' : ''} ${compounding.join(', ')} of ${verdicts.length}.`;
  return verdicts.some((v) => v.verdict === 'bounded decline') ? `No compounding loss: at worst a bounded decline, over ${verdicts.length} generations.` : `Stable over ${verdicts.length} generations.`;
}

/** Cells of the first decisive metric that carries the generation's verdict (or the first decisive one). */
function decisiveCells(l: Ledger, generation: number): string {
  const g = l.generations[generation]!;
  const td = (x: string) => `<td>${escapeHtml(x)}</td>`;
  if (!g.verdict) {
    const first = l.generations[1]?.verdict?.metrics.find((m) => m.decisive);
    return td(first ? `${first.metric}: ${f3(first.value + first.cumulative)}` : '') + td('').repeat(4);
  }
  const m = g.verdict.metrics.find((x) => x.decisive && x.verdict === g.verdict!.verdict) ?? g.verdict.metrics.find((x) => x.decisive)!;
  return td(`${m.metric}: ${pm(m.value, m.se)}`) + td(f3(m.loss)) + td(pm(m.cumulative, m.cumulative_se)) + td(f3(m.bound)) + td(pm(m.excess, m.excess_se));
}

export async function compareHtml(l: Ledger): Promise<string> {
  const r = l.verdict_rule;
  const long = l.generations.flatMap((g) => [
    { generation: g.generation, metric: 'distinct-2', value: g.diversity.distinct[2] },
    { generation: g.generation, metric: 'self-BLEU', value: g.diversity.self_bleu },
    { generation: g.generation, metric: 'mean cosine distance', value: g.diversity.mean_cosine_distance },
    ...(g.coverage_of_gen0 ? [{ generation: g.generation, metric: 'coverage of GEN0', value: g.coverage_of_gen0.coverage.value }] : []),
  ]);
  const lines = await chartSvg({
    width: 620, height: 240, data: { values: long }, mark: { type: 'line', point: true },
    encoding: { x: { field: 'generation', type: 'ordinal' }, y: { field: 'value', type: 'quantitative' }, color: { field: 'metric', type: 'nominal' } },
  });
  // distinct-2 at equal size with ±z·se bars, coloured by verdict; dashed: GEN0's value less the accumulation bound.
  const eq = l.generations.map((g) => {
    const d = g.distinct_at_budget[2];
    return { generation: g.generation, value: d.value, lo: d.value - r.z * d.se, hi: d.value + r.z * d.se, verdict: g.verdict?.verdict ?? 'anchor' };
  });
  const d2 = l.generations[1]?.verdict?.metrics.find((m) => m.metric === 'distinct-2');
  const floor = d2 ? l.generations[0]!.distinct_at_budget[2].value - d2.bound : null;
  const trend = await chartSvg({
    width: 620, height: 220,
    layer: [
      { data: { values: eq }, mark: 'errorbar', encoding: { x: { field: 'generation', type: 'ordinal' }, y: { field: 'lo', type: 'quantitative', title: `distinct-2 on ${r.budget[2]} bigrams`, scale: { zero: false } }, y2: { field: 'hi' } } },
      {
        data: { values: eq }, mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          x: { field: 'generation', type: 'ordinal' }, y: { field: 'value', type: 'quantitative' },
          color: { field: 'verdict', type: 'nominal', scale: { domain: ['anchor', 'stable', 'bounded decline', 'compounding loss'], range: ['#4c78a8', '#54a24b', '#e8a33d', '#e45756'] } },
        },
      },
      ...(floor !== null ? [{ data: { values: [{ floor }] }, mark: { type: 'rule' as const, strokeDash: [6, 4], color: '#888' }, encoding: { y: { field: 'floor', type: 'quantitative' as const } } }] : []),
    ],
  });
  const vendi = await chartSvg({
    width: 620, height: 200, data: { values: l.generations.map((g) => ({ generation: g.generation, vendi: g.diversity.vendi, lo: g.diversity.vendi_ci.lo, hi: g.diversity.vendi_ci.hi })) },
    layer: [
      { mark: 'errorbar', encoding: { x: { field: 'generation', type: 'ordinal' }, y: { field: 'lo', type: 'quantitative', title: 'Vendi score' }, y2: { field: 'hi' } } },
      { mark: { type: 'point', filled: true }, encoding: { x: { field: 'generation', type: 'ordinal' }, y: { field: 'vendi', type: 'quantitative' } } },
    ],
  });
  const evidence = l.generations.flatMap((g) => (g.verdict?.metrics ?? []).map((m): Cell[] => [
    g.generation, m.metric, m.decisive ? 'yes' : 'no (evidence)', pm(m.value, m.se), f3(m.loss), pm(m.cumulative, m.cumulative_se), f3(m.bound), pm(m.excess, m.excess_se),
    m.verdict === 'compounding loss' ? { text: m.verdict, class: 'warn' } : m.verdict,
  ]));
  const sections: Section[] = [
    {
      heading: 'Verdict per generation',
      html: `<p>${escapeHtml(headline(l))}</p>` + verdictTable(l) +
        `<p class="note">Rule: ${escapeHtml(r.summary)} z = ${r.z}; decisive: ${escapeHtml(r.decisive.join(', '))}; distinct-n measured on the same number of n-grams in every generation (${r.budget[1]} words, ${r.budget[2]} bigrams, ${r.budget[3]} trigrams), its noise from ${r.replicates} half-sample replicates.</p>`,
    },
    { heading: 'distinct-2 at equal size (bars ± z·se; dashed: GEN0 less the accumulation bound)', html: `<div class="chart">${trend}</div>` },
    {
      heading: 'Compounding loss',
      html: l.flags.length === 0 ? '<p>No generation shows compounding loss.</p>' : `<ul>${l.flags.map((f) => `<li class="warn">generation ${f.generation}: ${escapeHtml(f.reasons.join('; '))}</li>`).join('')}</ul>`,
    },
    {
      heading: 'Evidence per metric',
      html: table(['gen', 'metric', 'decisive', 'value ± se', 'loss since previous', 'cumulative loss ± se', 'bound', 'excess over bound ± se', 'verdict'], evidence) +
        `<p class="note">Vendi's se comes from its bootstrap interval, coverage's from its interval; GEN0's coverage is the ${f3(r.coverage_anchor)} a fresh sample of its own distribution would get (Naeem et al. 2020).</p>`,
    },
    {
      heading: 'Generations',
      html: table(['gen', 'documents', 'perplexity', 'distinct-1/2/3/4', 'distinct-1/2/3 at equal size', 'compression', 'self-BLEU', 'Vendi (95% CI)', 'coverage of GEN0', 'flagged synthetic', 'source'],
        l.generations.map((g) => [g.generation, g.documents, g.perplexity.toFixed(1),
          [1, 2, 3, 4].map((n) => g.diversity.distinct[n as 1 | 2 | 3 | 4].toFixed(3)).join(' / '),
          ([1, 2, 3] as const).map((n) => g.distinct_at_budget[n].value.toFixed(3)).join(' / '),
          g.diversity.compression_ratio.toFixed(3), g.diversity.self_bleu.toFixed(3),
          `${g.diversity.vendi.toFixed(1)} (${g.diversity.vendi_ci.lo.toFixed(1)}–${g.diversity.vendi_ci.hi.toFixed(1)})`, g.coverage_of_gen0 ? ci(g.coverage_of_gen0.coverage) : 'anchor',
          g.flagged_synthetic ? pct(g.flagged_synthetic.share) : '—', g.source])),
    },
    { heading: 'Diversity and coverage across generations', html: `<div class="chart">${lines}</div>` },
    { heading: 'Vendi score', html: `<div class="chart">${vendi}</div>` },
  ];
  return page('tailguard compare', 'GEN0 is the human anchor.', sections);
}

/** Cosine or Euclidean distances. */
function metricNote(r: CoverageReport): string {
  return r.metric === 'euclidean' ? 'Euclidean distances between the rows as given' : 'Euclidean distances between L2-normalised rows (cosine)';
}

/** How the neighbours were found: HNSW with its parameters and checks, or exact search. */
function searchNote(r: CoverageReport): string {
  const h = hnswFields(r);
  if (!h) {
    const e = r.exact_search;
    return `exact search over every pair (blocked matrix products, ONNX Runtime on ${e?.device ?? 'cpu'}; ${escapeHtml(r.search.reason)})` +
      (e ? `, ${e.rechecked_pairs} pairs within float32 rounding of a radius decided in float64.` : '.');
  }
  return `HNSW M ${h.index.m}, efConstruction ${h.index.efConstruction}, efSearch ${h.index.ef_tuning.reference.ef} (reference) and ${h.index.ef_tuning.candidate.ef} (candidate), raised from ${h.index.efSearch} until self-query recall@${r.k + 1} reached ${h.index.ef_tuning.reference.recall.toFixed(3)} and ${h.index.ef_tuning.candidate.recall.toFixed(3)} (target ${h.index.ef_tuning.reference.target})${efCapNote(h)}, recall@${r.k} vs exact search ${h.index.recall_at_k.toFixed(3)} on ${h.index.recall_sample} queries.${ballNote(h)}`;
}

/** Balls over max_probe: how many were counted exactly, and a warning when some were only counted to it. */
function ballNote(r: HnswReportFields): string {
  const counted = r.exact_balls.reference.counted + r.exact_balls.candidate.counted;
  const capped = r.capped.reference_balls + r.capped.candidate_balls;
  return (counted ? ` ${counted} balls held more than ${r.max_probe} points and were counted exactly (${r.exact_balls.reference.shrunk + r.exact_balls.candidate.shrunk} of their radii too large).` : '') +
    (capped ? ` <strong>${capped} more were counted only to ${r.max_probe}: density is a lower bound.</strong>` : '');
}

/** Said on the page when an index stopped below the recall target at the ef cap. */
function efCapNote(r: HnswReportFields): string {
  const short = shortOfTarget(r.index.ef_tuning).map(([side]) => side);
  return short.length ? ` <strong>— the ${short.join(' and ')} ${short.length > 1 ? 'indexes' : 'index'} stopped short of the target at the ef cap: radii may be too large, precision and density too high</strong>` : '';
}
