/**
 * `weightsRun`: one weight per candidate document so that the weighted candidate matches the reference's cluster
 * distribution more closely (weights.ts), with coverage's regions as the clusters: k-means (coverage/clusters.ts) of
 * the reference in its anchor frame, under the same metric.
 *
 * Outputs in `out`: weights.jsonl and weights.parquet (id, weight, cluster, region_label: the cluster's label, null
 * without reference texts; one row per candidate document, in order), report.json (TV distance before/after,
 * per-cluster summary with each region's label, the clusters weights cannot fix), anchor-frame.json (unless whitening
 * is off) and report.html (the same with the weight distribution and the region histograms before/after).
 *
 * Ids may repeat: every row is kept and weighted, example texts are read by row, and detections are joined to the
 * rows of a repeated id without guessing (joinDetections); report.json counts the repeats (`duplicate_ids`).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuplicateIdError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { JsonlWriter } from '../io/jsonl-writer.js';
import { jsonlToParquet } from '../io/parquet-from-jsonl.js';
import { idCounts, repeatedIds, repeatsReport, type RepeatedIds } from '../io/repeated-ids.js';
import { assignAll, clusterTableWithRows, kmeans, perCluster, type ClusterRow } from '../coverage/clusters.js';
import { withExampleTexts } from '../coverage/example-texts.js';
import { ANCHOR_FRAME_FILE, intoAnchorFrame, type FrameRequest } from '../coverage/anchor-frame.js';
import { regionLabels } from '../coverage/region-labels.js';
import {
  checkMetric,
  loadComparable,
  loadVectors,
  scoreRowLines,
  setSummary,
  type DistanceMetric,
  type VectorSet,
} from '../coverage/vectors.js';
import { weightsHtml } from './report-html.js';
import { clusterWeights } from './weights.js';

/** whiten (default true), anchorFrame, frameMethod: the reference's frame, as for coverage (anchor-frame.ts). */
export interface WeightsOptions extends FrameRequest {
  reference: string;
  candidate: string;
  out: string;
  clusters?: number;
  maxWeight?: number;
  /** cosine (default): rows L2-normalised; euclidean: rows as given (coverage's `metric`, vectors.ts). */
  metric?: DistanceMetric;
  /** detections.jsonl from `tailguard detect` over the candidate: weights × (1 − p_synthetic). */
  detections?: string;
  seed?: number;
}

import type { WeightsReport } from './report.js';

export type { WeightsReport };

interface Detection {
  p: number;
  /** The row's corpus line, when the file gives it. */
  line?: number;
}

/** detections.jsonl: its rows by id, in file order, and its ids in file order. */
function readDetections(path: string): { byId: Map<string, Detection[]>; ids: string[] } {
  if (!existsSync(path)) throw new UsageError(`${path}: no such detections file`);
  const byId = new Map<string, Detection[]>();
  const ids: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { id: unknown; line?: unknown; p_synthetic: number };
    const id = String(r.id);
    const rows = byId.get(id) ?? [];
    rows.push({ p: r.p_synthetic, ...(typeof r.line === 'number' ? { line: r.line } : {}) });
    byId.set(id, rows);
    ids.push(id);
  }
  return { byId, ids };
}

interface JoinedDetections {
  p: number[];
  repeats?: RepeatedIds;
  /** How rows of repeated ids were joined (absent: no id repeats on either side). */
  repeatsJoinedBy?: 'line' | 'occurrence';
}

/**
 * p_synthetic of every candidate row, joined by id. An id on one row of each side joins as it always did. An id that
 * repeats on either side joins by (id, corpus line) when the candidate is a score directory and the detections give
 * lines; else by occurrence, the k-th candidate row with the id taking the k-th detection with it (both files are in
 * input order), which needs as many rows with it on each side. Anything else is refused (DuplicateIdError), never
 * guessed; a candidate row without a detection is refused as before (UsageError).
 */
function joinDetections(path: string, candidatePath: string, cand: VectorSet): JoinedDetections {
  const { byId, ids } = readDetections(path);
  const counts = idCounts(cand.ids);
  const repeated = (id: string): boolean => counts.get(id)! > 1 || (byId.get(id)?.length ?? 0) > 1;
  const repeatRows = cand.ids.flatMap((id, j) => (repeated(id) ? [j] : []));
  const detectionLines = repeatRows.every((j) => (byId.get(cand.ids[j]!) ?? []).every((d) => d.line !== undefined));
  const lines = repeatRows.length && detectionLines ? scoreRowLines(candidatePath, repeatRows) : undefined;
  const taken = new Map<string, number>();
  const missing: string[] = [];
  const p = cand.ids.map((id, j) => {
    const rows = byId.get(id);
    let d: Detection | undefined;
    if (rows && !repeated(id)) d = rows[0];
    else if (rows && lines) d = byLine(path, id, rows, lines.get(j)!);
    else if (rows) d = byOccurrence(path, candidatePath, id, rows, counts.get(id)!, taken);
    if (!d) missing.push(lines && repeated(id) ? `${id} at line ${lines.get(j)}` : id);
    return d?.p ?? NaN;
  });
  if (missing.length)
    throw new UsageError(
      `${path} has no row for ${missing.length} candidate documents (first: ${missing[0]}); run detect over the same candidate`,
    );
  const repeats = repeatedIds(ids);
  const joined = repeatRows.length ? { repeatsJoinedBy: lines ? ('line' as const) : ('occurrence' as const) } : {};
  return { p, ...(repeats ? { repeats } : {}), ...joined };
}

/** The detection of `id` at corpus line `line`: there must be at most one. */
function byLine(path: string, id: string, rows: Detection[], line: number): Detection | undefined {
  const at = rows.filter((d) => d.line === line);
  if (at.length > 1)
    throw new DuplicateIdError(
      path,
      id,
      `${at.length} rows have id ${JSON.stringify(id)} and line ${line}: one detection per document is expected`,
    );
  return at[0];
}

/** The next detection of `id`, when the detections and the candidate have as many rows with it. */
function byOccurrence(
  path: string,
  candidatePath: string,
  id: string,
  rows: Detection[],
  inCandidate: number,
  taken: Map<string, number>,
): Detection {
  if (rows.length !== inCandidate) {
    throw new DuplicateIdError(
      path,
      id,
      `id ${JSON.stringify(id)} is on ${rows.length} rows here and on ${inCandidate} rows of the candidate ${candidatePath}, ` +
        "which gives no corpus lines to tell them apart: pass the candidate's score directory, or run detect over the same candidate",
    );
  }
  const k = taken.get(id) ?? 0;
  taken.set(id, k + 1);
  return rows[k]!;
}

/** What weights did with repeated ids, for report.json and the warning. */
function repeatsHandling(joinedBy: JoinedDetections['repeatsJoinedBy']): string {
  const detections =
    joinedBy === 'line'
      ? '; detections were joined to the rows of a repeated id by id and corpus line'
      : joinedBy === 'occurrence'
        ? '; detections were joined to the rows of a repeated id in order (the k-th row with the id takes the k-th detection with it)'
        : '';
  return (
    'Every row is kept and weighted: weights.jsonl has one row per candidate document in input order, so join it back by row order, not by id; ' +
    `example texts are read by row${detections}.`
  );
}

export async function weightsRun(opts: WeightsOptions): Promise<WeightsReport> {
  const metric = checkMetric(opts.metric);
  const ref = loadVectors(opts.reference, { metric });
  const cand = loadComparable(opts.candidate, ref, { metric });
  const out = resolve(opts.out);
  mkdirSync(out, { recursive: true });
  // The regions of coverage: the same frame, the same k-means (so the same clusters for the same k and seed).
  const { summary: frame } = await intoAnchorFrame(ref, [cand], metric, opts, join(out, ANCHOR_FRAME_FILE));
  const k = opts.clusters ?? 32;
  const clustering = kmeans(ref, k, { seed: opts.seed });
  const refAssign = assignAll(clustering, ref);
  const candAssign = assignAll(clustering, cand);
  const detections = opts.detections ? joinDetections(opts.detections, opts.candidate, cand) : undefined;
  const p = detections?.p;
  const maxWeight = opts.maxWeight ?? 10;
  const res = clusterWeights(refAssign, candAssign, clustering.k, { maxWeight, pSynthetic: p });
  const { table: clusterRows, exampleRows } = clusterTableWithRows(clustering, ref, refAssign, candAssign);
  const table = await withExampleTexts(clusterRows, exampleRows, ref);
  const labels = await regionLabels(ref, refAssign, clustering.k);
  const repeats = repeatsReport(
    { reference: repeatedIds(ref.ids), candidate: repeatedIds(cand.ids), detections: detections?.repeats },
    repeatsHandling(detections?.repeatsJoinedBy),
  );

  const rows = await JsonlWriter.create(join(out, 'weights.jsonl'));
  for (let j = 0; j < cand.ids.length; j++)
    await rows.write({
      id: cand.ids[j],
      weight: res.weights[j],
      cluster: candAssign[j],
      region_label: labels.labels[candAssign[j]!]!.label,
    });
  await rows.close();
  await jsonlToParquet(join(out, 'weights.jsonl'), join(out, 'weights.parquet'), {
    integerFields: ['cluster'],
    columnTypes: { id: 'STRING', weight: 'DOUBLE', cluster: 'INT64', region_label: 'STRING' },
  });

  const sorted = Array.from(res.weights).sort((a, b) => a - b);
  const weightSums = perCluster(candAssign, clustering.k, res.weights);
  const meanW = (r: ClusterRow) => (r.candidate_documents ? weightSums[r.cluster]! / r.candidate_documents : 0);
  const report: WeightsReport = {
    tool: 'tailguard',
    command: 'weights',
    reference: setSummary(opts.reference, ref),
    candidate: setSummary(opts.candidate, cand),
    metric,
    frame,
    clusters: clustering.k,
    max_weight: maxWeight,
    down_weighted_by_p_synthetic: p !== undefined,
    tv_before: res.tvBefore,
    tv_after: res.tvAfter,
    capped_documents: res.capped,
    weight_summary: {
      min: sorted[0] ?? 0,
      median: sorted[Math.floor(sorted.length / 2)] ?? 0,
      max: sorted[sorted.length - 1] ?? 0,
      mean: 1,
    },
    per_cluster: table.rows.map((r) => ({
      ...r,
      ...labels.labels[r.cluster]!,
      weighted_share: res.weightedShare[r.cluster]!,
      mean_weight: meanW(r),
    })),
    ...(table.missing ? { example_texts_missing: table.missing } : {}),
    ...(labels.info ? { region_labels: labels.info } : {}),
    ...(labels.missing ? { region_labels_missing: labels.missing } : {}),
    cannot_fix: res.absent.map((a) => ({
      ...a,
      note: `the candidate has no document in cluster ${a.cluster} (${(100 * a.reference_share).toFixed(1)}% of the reference): no weight can bring it back; add human data from it`,
    })),
    ...(repeats ? { duplicate_ids: repeats } : {}),
  };
  await writeFileAtomic(join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(join(out, 'report.html'), await weightsHtml(report, res.weights));
  return report;
}
