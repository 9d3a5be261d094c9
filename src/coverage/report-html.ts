/** The HTML report of `coverage` (report/html.ts renders; this chooses what to show). */
import { chartSvg, ci, escapeHtml, examplesCell, page, pct, table, type Cell, type Section } from '../report/html.js';
import type { FrameSummary } from './anchor-frame.js';
import { shortOfTarget } from './hnsw/ef-tuning.js';
import { hnswFields, type CoverageReport, type HnswReportFields } from './report.js';

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
    width: 760,
    height: 220,
    data: { values: regionRows },
    mark: 'bar',
    encoding: {
      x: { field: 'region', type: 'nominal', sort: null, title: 'reference region (k-means)' },
      xOffset: { field: 'set' },
      y: { field: 'share', type: 'quantitative', axis: { format: '%' } },
      color: {
        field: 'set',
        type: 'nominal',
        scale: { domain: ['reference', 'candidate'], range: ['#4c78a8', '#f58518'] },
      },
    },
  });
  const coverage = await chartSvg({
    width: 760,
    height: 160,
    data: {
      values: r.clusters.map((c) => ({
        region: `#${c.cluster}`,
        coverage: c.coverage,
        tail: r.tails.includes(c.cluster) ? 'tail' : 'ok',
      })),
    },
    mark: 'bar',
    encoding: {
      x: { field: 'region', type: 'nominal', sort: null },
      y: { field: 'coverage', type: 'quantitative', scale: { domain: [0, 1] } },
      color: { field: 'tail', type: 'nominal', scale: { domain: ['ok', 'tail'], range: ['#72b7b2', '#e45756'] } },
    },
  });
  const scatter = await chartSvg({
    width: 560,
    height: 420,
    data: {
      values: map.map((p) => ({
        ...p,
        kind: p.set === 'candidate' ? 'candidate' : p.tail ? 'reference (tail region)' : 'reference',
      })),
    },
    mark: { type: 'point', filled: true, size: 14, opacity: 0.6 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: 'PC 1' },
      y: { field: 'y', type: 'quantitative', title: 'PC 2' },
      color: {
        field: 'kind',
        type: 'nominal',
        scale: {
          domain: ['reference', 'reference (tail region)', 'candidate'],
          range: ['#9ecae9', '#e45756', '#f58518'],
        },
        legend: { labelLimit: 240 },
      },
    },
  });
  const sections: Section[] = [
    {
      heading: 'Fidelity and diversity',
      html:
        table(
          ['metric', 'value (95% CI)'],
          [
            ['precision', ci(r.precision)],
            ['recall', ci(r.recall)],
            ['density', ci(r.density)],
            ['coverage', ci(r.coverage)],
          ],
        ) +
        `<p class="note">k = ${r.k}; ${r.reference.documents} reference and ${r.candidate.documents} candidate documents, ${r.dim}-d, ${metricNote(r)}; ${escapeHtml(frameNote(r.frame))}; ${searchNote(r)}</p>`,
    },
    { heading: 'Share of documents per reference region', html: `<div class="chart">${shares}</div>` },
    { heading: 'Coverage per region (tails in red)', html: `<div class="chart">${coverage}</div>` },
    {
      heading: 'Map of the embedding space (first two principal components of a sample)',
      html: `<div class="chart">${scatter}</div>`,
    },
    {
      heading: 'Tails: regions where the candidate is thin or absent',
      html:
        r.tails.length === 0
          ? '<p>None: every region holds at least half its reference share of candidate documents.</p>'
          : table(
              [
                'region',
                'label',
                'status',
                'reference share',
                'candidate share',
                'coverage',
                'example reference documents',
              ],
              r.tails
                .map((t) => r.clusters[t]!)
                .map((c) => [
                  `#${c.cluster}`,
                  labelCell(c.label),
                  c.status,
                  pct(c.reference_share),
                  pct(c.candidate_share),
                  pct(c.coverage),
                  examplesCell(c),
                ]),
            ),
    },
    {
      heading: 'Regions and their most distinctive words',
      html:
        table(
          ['region', 'label', 'status', 'reference share', 'candidate share', 'coverage'],
          r.clusters.map((c) => [
            `#${c.cluster}`,
            labelCell(c.label),
            c.status,
            pct(c.reference_share),
            pct(c.candidate_share),
            pct(c.coverage),
          ]),
        ) + `<p class="note">${escapeHtml(labelsNote(r))}</p>`,
    },
  ];
  return page(
    'tailguard coverage',
    `Reference: ${escapeHtml(r.reference.source)}<br>Candidate: ${escapeHtml(r.candidate.source)}`,
    sections,
  );
}

/** The frame the sets were measured in (anchor-frame.ts), as plain text for the reports of coverage and weights. */
export function frameNote(f: FrameSummary): string {
  if (f.method === 'none') return 'embeddings as loaded (no anchor frame)';
  const how =
    f.method === 'whiten'
      ? `whitened (shrinkage ${f.shrinkage?.toPrecision(3)})`
      : `${f.removed} top principal directions removed (${pct(f.removed_variance ?? 0)} of the variance)`;
  const on = f.fitted_on ? ` fitted on ${f.fitted_on.documents} documents of ${f.fitted_on.source}` : '';
  return `in the anchor frame of the reference: ${how}${on}${f.reused ? `, reused from ${f.file ?? ''}` : ''}`;
}

/** Cosine or Euclidean distances. */
function metricNote(r: CoverageReport): string {
  return r.metric === 'euclidean'
    ? 'Euclidean distances between the rows as given'
    : 'Euclidean distances between L2-normalised rows (cosine)';
}

/** How the neighbours were found: HNSW with its parameters and checks, or exact search. */
function searchNote(r: CoverageReport): string {
  const h = hnswFields(r);
  if (!h) {
    const e = r.exact_search;
    return (
      `exact search over every pair (blocked matrix products, ONNX Runtime on ${e?.device ?? 'cpu'}; ${escapeHtml(r.search.reason)})` +
      (e ? `, ${e.rechecked_pairs} pairs within float32 rounding of a radius decided in float64.` : '.')
    );
  }
  return `HNSW M ${h.index.m}, efConstruction ${h.index.efConstruction}, efSearch ${h.index.ef_tuning.reference.ef} (reference) and ${h.index.ef_tuning.candidate.ef} (candidate), raised from ${h.index.efSearch} until self-query recall@${r.k + 1} reached ${h.index.ef_tuning.reference.recall.toFixed(3)} and ${h.index.ef_tuning.candidate.recall.toFixed(3)} (target ${h.index.ef_tuning.reference.target})${efCapNote(h)}, recall@${r.k} vs exact search ${h.index.recall_at_k.toFixed(3)} on ${h.index.recall_sample} queries.${ballNote(h)}`;
}

/** Balls over max_probe: how many were counted exactly, and a warning when some were only counted to it. */
function ballNote(r: HnswReportFields): string {
  const counted = r.exact_balls.reference.counted + r.exact_balls.candidate.counted;
  const capped = r.capped.reference_balls + r.capped.candidate_balls;
  return (
    (counted
      ? ` ${counted} balls held more than ${r.max_probe} points and were counted exactly (${r.exact_balls.reference.shrunk + r.exact_balls.candidate.shrunk} of their radii too large).`
      : '') +
    (capped ? ` <strong>${capped} more were counted only to ${r.max_probe}: density is a lower bound.</strong>` : '')
  );
}

/** Said on the page when an index stopped below the recall target at the ef cap. */
function efCapNote(r: HnswReportFields): string {
  const short = shortOfTarget(r.index.ef_tuning).map(([side]) => side);
  return short.length
    ? ` <strong>— the ${short.join(' and ')} ${short.length > 1 ? 'indexes' : 'index'} stopped short of the target at the ef cap: radii may be too large, precision and density too high</strong>`
    : '';
}

/** A region's label in a table cell: its words, or a dash when there are none. */
export function labelCell(label: string | null): Cell {
  return { text: label || '—', class: 'examples' };
}

/** How the labels were made, or why there are none. */
export function labelsNote(r: {
  region_labels?: CoverageReport['region_labels'];
  region_labels_missing?: string;
}): string {
  const l = r.region_labels;
  if (!l) return `No labels: ${r.region_labels_missing ?? 'no texts'}.`;
  return (
    `Labels: each region's ${l.top_terms} most distinctive words by class-based TF-IDF over the texts of its ${l.documents} reference documents` +
    (l.pruned_words ? ` (${l.pruned_words} rare words pruned to keep the vocabulary under ${l.vocabulary_cap}).` : '.')
  );
}
