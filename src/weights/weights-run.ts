/**
 * `weightsRun`: one weight per candidate document so that the weighted candidate matches the reference's cluster
 * distribution more closely (weights.ts), with the clusters from coverage/clusters.ts.
 *
 * Outputs in `out`: weights.jsonl and weights.parquet (id, weight, cluster; one row per candidate document, in
 * order), report.json (TV distance before/after, per-cluster summary, the clusters weights cannot fix) and
 * report.html (the same with the weight distribution and the region histograms before/after).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { JsonlWriter } from '../io/jsonl-writer.js';
import { jsonlToParquet } from '../io/parquet-from-jsonl.js';
import { assignAll, clusterTable, kmeans, perCluster, type ClusterRow } from '../coverage/clusters.js';
import { withExampleTexts } from '../coverage/example-texts.js';
import { loadComparable, loadVectors, setSummary, type SetSummary } from '../coverage/vectors.js';
import { weightsHtml } from '../report/reports.js';
import { clusterWeights } from './weights.js';

export interface WeightsOptions {
  reference: string;
  candidate: string;
  out: string;
  clusters?: number;
  maxWeight?: number;
  /** detections.jsonl from `tailguard detect` over the candidate: weights × (1 − p_synthetic). */
  detections?: string;
  seed?: number;
}

export interface WeightsReport {
  tool: 'tailguard';
  command: 'weights';
  reference: SetSummary;
  candidate: SetSummary;
  clusters: number;
  max_weight: number;
  down_weighted_by_p_synthetic: boolean;
  tv_before: number;
  tv_after: number;
  capped_documents: number;
  weight_summary: { min: number; median: number; max: number; mean: number };
  per_cluster: (ClusterRow & { weighted_share: number; mean_weight: number; example_texts: (string | null)[] })[];
  /** Why the example documents have no texts, when they have none (see example-texts.ts). */
  example_texts_missing?: string;
  cannot_fix: { cluster: number; reference_share: number; note: string }[];
}

function pSyntheticById(path: string): Map<string, number> {
  if (!existsSync(path)) throw new UsageError(`${path}: no such detections file`);
  const m = new Map<string, number>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { id: string; p_synthetic: number };
    m.set(String(r.id), r.p_synthetic);
  }
  return m;
}

export async function weightsRun(opts: WeightsOptions): Promise<WeightsReport> {
  const ref = loadVectors(opts.reference);
  const cand = loadComparable(opts.candidate, ref);
  const k = opts.clusters ?? 32;
  const clustering = kmeans(ref, k, { seed: opts.seed });
  const refAssign = assignAll(clustering, ref);
  const candAssign = assignAll(clustering, cand);
  let p: number[] | undefined;
  if (opts.detections) {
    const byId = pSyntheticById(opts.detections);
    const missing = cand.ids.filter((id) => !byId.has(id));
    if (missing.length) throw new UsageError(`${opts.detections} has no row for ${missing.length} candidate documents (first: ${missing[0]}); run detect over the same candidate`);
    p = cand.ids.map((id) => byId.get(id)!);
  }
  const maxWeight = opts.maxWeight ?? 10;
  const res = clusterWeights(refAssign, candAssign, clustering.k, { maxWeight, pSynthetic: p });
  const table = await withExampleTexts(clusterTable(clustering, ref, refAssign, candAssign), opts.reference);

  const out = resolve(opts.out);
  mkdirSync(out, { recursive: true });
  const rows = await JsonlWriter.create(join(out, 'weights.jsonl'));
  for (let j = 0; j < cand.ids.length; j++) await rows.write({ id: cand.ids[j], weight: res.weights[j], cluster: candAssign[j] });
  await rows.close();
  await jsonlToParquet(join(out, 'weights.jsonl'), join(out, 'weights.parquet'), { integerFields: ['cluster'], columnTypes: { id: 'STRING', weight: 'DOUBLE', cluster: 'INT64' } });

  const sorted = Array.from(res.weights).sort((a, b) => a - b);
  const weightSums = perCluster(candAssign, clustering.k, res.weights);
  const meanW = (r: ClusterRow) => (r.candidate_documents ? weightSums[r.cluster]! / r.candidate_documents : 0);
  const report: WeightsReport = {
    tool: 'tailguard',
    command: 'weights',
    reference: setSummary(opts.reference, ref),
    candidate: setSummary(opts.candidate, cand),
    clusters: clustering.k,
    max_weight: maxWeight,
    down_weighted_by_p_synthetic: p !== undefined,
    tv_before: res.tvBefore,
    tv_after: res.tvAfter,
    capped_documents: res.capped,
    weight_summary: { min: sorted[0] ?? 0, median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted[sorted.length - 1] ?? 0, mean: 1 },
    per_cluster: table.rows.map((r) => ({ ...r, weighted_share: res.weightedShare[r.cluster]!, mean_weight: meanW(r) })),
    ...(table.missing ? { example_texts_missing: table.missing } : {}),
    cannot_fix: res.absent.map((a) => ({
      ...a,
      note: `the candidate has no document in cluster ${a.cluster} (${(100 * a.reference_share).toFixed(1)}% of the reference): no weight can bring it back; add human data from it`,
    })),
  };
  await writeFileAtomic(join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(join(out, 'report.html'), await weightsHtml(report, res.weights));
  return report;
}
