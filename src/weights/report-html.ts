/** The HTML report of `weights` (report/html.ts renders; this chooses what to show). */
import { chartSvg, escapeHtml, examplesCell, page, pct, table, type Section } from '../report/html.js';
import { frameNote, labelCell, labelsNote } from '../coverage/report-html.js';
import type { WeightsReport } from './report.js';

export async function weightsHtml(r: WeightsReport, weights: ArrayLike<number>): Promise<string> {
  const hist = await chartSvg({
    width: 620,
    height: 200,
    data: { values: Array.from(weights, (w) => ({ w })) },
    mark: 'bar',
    encoding: {
      x: { field: 'w', type: 'quantitative', bin: { maxbins: 40 }, title: 'weight' },
      y: { aggregate: 'count', type: 'quantitative', title: 'documents' },
    },
  });
  const regions = await chartSvg({
    width: 760,
    height: 220,
    data: {
      values: r.per_cluster.flatMap((c) => [
        { region: `#${c.cluster}`, histogram: 'reference', share: c.reference_share },
        { region: `#${c.cluster}`, histogram: 'candidate', share: c.candidate_share },
        { region: `#${c.cluster}`, histogram: 'weighted candidate', share: c.weighted_share },
      ]),
    },
    mark: 'bar',
    encoding: {
      x: { field: 'region', type: 'nominal', sort: null },
      xOffset: { field: 'histogram' },
      y: { field: 'share', type: 'quantitative', axis: { format: '%' } },
      color: {
        field: 'histogram',
        type: 'nominal',
        scale: { domain: ['reference', 'candidate', 'weighted candidate'], range: ['#4c78a8', '#f58518', '#54a24b'] },
      },
    },
  });
  const sections: Section[] = [
    {
      heading: 'Summary',
      html: table(
        ['', ''],
        [
          ['regions', `${r.clusters} k-means clusters of the reference, ${frameNote(r.frame)}`],
          ['total-variation distance to the reference, before', r.tv_before.toFixed(3)],
          ['after weighting', r.tv_after.toFixed(3)],
          [
            'weights (min / median / max)',
            `${r.weight_summary.min.toFixed(3)} / ${r.weight_summary.median.toFixed(3)} / ${r.weight_summary.max.toFixed(3)}`,
          ],
          ['capped at', `${r.max_weight} (${r.capped_documents} documents)`],
          ['down-weighted by p_synthetic', r.down_weighted_by_p_synthetic ? 'yes' : 'no'],
        ],
      ),
    },
    { heading: 'Weight distribution', html: `<div class="chart">${hist}</div>` },
    { heading: 'Region histograms', html: `<div class="chart">${regions}</div>` },
    {
      heading: 'What the weights cannot fix',
      html:
        r.cannot_fix.length === 0
          ? '<p>Every reference region has candidate documents to up-weight.</p>'
          : `<ul>${r.cannot_fix.map((c) => `<li class="warn">${escapeHtml(c.note)}</li>`).join('')}</ul>`,
    },
    {
      heading: 'Per region',
      html:
        table(
          ['region', 'label', 'status', 'reference', 'candidate', 'weighted', 'mean weight', 'examples'],
          r.per_cluster.map((c) => [
            `#${c.cluster}`,
            labelCell(c.label),
            c.status,
            pct(c.reference_share),
            pct(c.candidate_share),
            pct(c.weighted_share),
            c.mean_weight.toFixed(3),
            examplesCell(c),
          ]),
        ) + `<p class="note">${escapeHtml(labelsNote(r))}</p>`,
    },
  ];
  return page(
    'tailguard weights',
    `Reference: ${escapeHtml(r.reference.source)}<br>Candidate: ${escapeHtml(r.candidate.source)}`,
    sections,
  );
}
