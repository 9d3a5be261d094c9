/**
 * `compareGenerations`: diversity across model generations. GEN0 is the human anchor; each GEN is a `tailguard score`
 * output directory (its texts are read from the corpus its run.json names). Per generation: the diversity metrics
 * (metrics.ts), distinct-1..3 at equal size with their noise (equal-size.ts: every generation measured on the same
 * number of n-grams, noise by repeated half-sampling), coverage against GEN0 (precision/recall/density/coverage,
 * coverage/hnsw/prdc.ts), the share the detector flags as machine-written (the model's zero-shot Fast-DetectGPT, or
 * `detector`), and corpus perplexity exp(Σ NLL / Σ tokens). Written to OUT/ledger.json (also as OUT/report.json) and
 * OUT/report.html.
 *
 * Verdict per generation (verdict.ts): stable, bounded decline or compounding loss, from each metric's cumulative
 * loss since GEN0 against the accumulation bound (π²/6)·(GEN0 → GEN1 loss) and the noise. Decisive by default:
 * distinct-2 at equal size (`verdictMetrics`). Vendi (noise from its bootstrap interval) and coverage of GEN0 (anchor:
 * the coverage a fresh sample of GEN0's own distribution of GEN0's size would get, 1 − Π_{i≤k} (N−i)/(2N−i),
 * Naeem et al. 2020; noise from its interval) are reported with their own verdicts but do not decide. Vendi, cosine
 * distance and coverage are measured in GEN0's frame (coverage/anchor-frame.ts: whitened by default, OUT/anchor-frame.json,
 * `whiten` false for the embeddings as loaded, which are anisotropic enough that they hardly move). Each generation with compounding loss is listed in
 * `flags` and carries its reasons in `early_collapse`, the fields ledger version 1 had (version 1 flagged any
 * one-generation fall of distinct-2, Vendi or coverage while perplexity held; that rule is gone).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { inputExists } from '../io/corpus-files.js';
import { openCorpus } from '../io/open-corpus.js';
import { AnnIndex } from '../coverage/hnsw/ann-index.js';
import { localPair } from '../coverage/workers/index-pair.js';
import { prdc } from '../coverage/hnsw/prdc.js';
import { loadComparable, loadVectors } from '../coverage/vectors.js';
import { applyAnchorFrame, ANCHOR_FRAME_FILE, intoAnchorFrame, type FrameRequest } from '../coverage/anchor-frame.js';
import { applyDetector, type DetectorSpec } from '../detect/detector.js';
import type { ScoreRow } from '../detect/features.js';
import { corpusFields, readRun, isScoreDir, scoreRows } from '../score/score-dir.js';
import { modelZeroShot, readDetectorFile } from '../detect/detect-corpus.js';
import type { SideRadii } from '../coverage/hnsw/prdc.js';
import { compareHtml } from './report-html.js';
import { corpusDiversity } from './metrics.js';
import { commonBudget, countNgrams, distinctAtBudget } from './equal-size.js';
import {
  DEFAULT_VERDICT_METRICS,
  VERDICT_METRICS,
  type GenerationEntry,
  type Ledger,
  type VerdictMetric,
} from './ledger.js';
import {
  ACCUMULATION_BOUND,
  DEFAULT_Z,
  generationVerdicts,
  type MetricEvidence,
  type MetricSeries,
} from './verdict.js';
import { wordTokens } from '../signals/text-signals.js';

const EQUAL_SIZE_ORDERS = [1, 2, 3] as const;

export interface CompareOptions extends FrameRequest {
  /** Neighbours for the coverage radii (default 5). */
  k?: number;
  /** detector.json for the flagged share (default: the model's zero-shot detector). */
  detector?: string;
  seed?: number;
  /** One-sided z of the verdicts (default 1.96). */
  z?: number;
  /** Metrics whose verdicts decide a generation's (default distinct-2); the others are shown as evidence. */
  verdictMetrics?: readonly VerdictMetric[];
  /** Half-sampling replicates of distinct-n at equal size (default 50). */
  replicates?: number;
}

export type { GenerationEntry, Ledger, VerdictMetric, VerdictRule } from './ledger.js';
export { DEFAULT_VERDICT_METRICS, VERDICT_METRICS } from './ledger.js';

export const RULE_SUMMARY =
  'per metric, cumulative loss C = m0 − m since GEN0 against the bound B = (π²/6)·max(m0 − m1, 0) that accumulating ' +
  'data allows: stable when C ≤ z·se(C); compounding loss (generation 2 on) when C − B > z·se(C − B) too; bounded ' +
  'decline otherwise. The generation takes the worst verdict of its decisive metrics.';

async function readGeneration(dir: string): Promise<{ rows: ScoreRow[]; texts: string[] }> {
  if (!isScoreDir(dir))
    throw new UsageError(
      `${dir} is not a tailguard score output directory (run \`tailguard score\` on each generation first)`,
    );
  const run = readRun(dir);
  const rows: ScoreRow[] = [];
  for await (const row of scoreRows(dir)) rows.push(row);
  if (!inputExists(run.input))
    throw new UsageError(`${dir}: the scored corpus ${run.input} no longer exists; diversity needs the texts`);
  const byLine = new Map<number, string>();
  const wanted = new Set(rows.map((r) => r.line));
  for await (const rec of openCorpus(run.input, corpusFields(run)))
    if (rec.kind === 'doc' && wanted.has(rec.line)) byLine.set(rec.line, rec.text);
  return { rows, texts: rows.map((r) => byLine.get(r.line) ?? '') };
}

function detectorFor(dir: string, detectorPath?: string): { spec: DetectorSpec; name: string } | null {
  if (detectorPath) return { spec: readDetectorFile(detectorPath).detector, name: resolve(detectorPath) };
  const zs = modelZeroShot(readRun(dir).model.dir, 0.01);
  return zs ? { spec: zs.spec, name: 'zero-shot fast_detect at 1% FPR' } : null;
}

/** Expected PRDC coverage of N reference points by M points of the same distribution (Naeem et al. 2020, lemma 2). */
export function expectedCoverage(n: number, m: number, k: number): number {
  let p = 1;
  for (let i = 1; i <= k; i++) p *= (n - i) / (n + m - i);
  return 1 - Math.max(p, 0);
}

function checkOptions(opts: CompareOptions): { z: number; decisive: VerdictMetric[]; replicates: number } {
  const z = opts.z ?? DEFAULT_Z;
  if (!(Number.isFinite(z) && z > 0)) throw new UsageError(`\`z\` must be a positive number, got ${z}`);
  const decisive = [...new Set(opts.verdictMetrics ?? DEFAULT_VERDICT_METRICS)];
  const unknown = decisive.filter((m) => !(VERDICT_METRICS as readonly string[]).includes(m));
  if (decisive.length === 0 || unknown.length > 0) {
    throw new UsageError(
      `\`verdictMetrics\` must name at least one of ${VERDICT_METRICS.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`,
    );
  }
  const replicates = opts.replicates ?? 50;
  if (!Number.isInteger(replicates) || replicates < 1)
    throw new UsageError(`\`replicates\` must be a positive integer, got ${replicates}`);
  return { z, decisive, replicates };
}

/** se from a 95% interval (Vendi's bootstrap, coverage's): its width / (2 · 1.96). */
const seOf = (ci: { lo: number; hi: number }) => Math.max(ci.hi - ci.lo, 0) / (2 * 1.959964);

/** The trend series the verdicts read, GEN0 first. */
function verdictSeries(
  entries: Omit<GenerationEntry, 'verdict' | 'early_collapse'>[],
  decisive: VerdictMetric[],
  coverageAnchor: number,
): MetricSeries[] {
  const series: [VerdictMetric, MetricSeries['points']][] = [
    ...EQUAL_SIZE_ORDERS.map((n): [VerdictMetric, MetricSeries['points']] => [
      `distinct-${n}`,
      entries.map((e) => ({ value: e.distinct_at_budget[n].value, se: e.distinct_at_budget[n].se })),
    ]),
    ['vendi', entries.map((e) => ({ value: e.diversity.vendi, se: seOf(e.diversity.vendi_ci) }))],
    [
      'coverage',
      entries.map((e) =>
        e.coverage_of_gen0
          ? { value: e.coverage_of_gen0.coverage.value, se: seOf(e.coverage_of_gen0.coverage.ci) }
          : { value: coverageAnchor, se: 0 },
      ),
    ],
  ];
  return series.map(([metric, points]) => ({ metric, decisive: decisive.includes(metric), points }));
}

/** One line of evidence for a metric with compounding loss. */
export function evidenceLine(m: MetricEvidence, anchor: number, z: number): string {
  const f = (x: number) => (Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(3));
  return `${m.metric} ${f(anchor)} → ${f(m.value)}: cumulative loss ${f(m.cumulative)} exceeds the accumulation bound ${f(m.bound)} by ${f(m.excess)} (noise z·se = ${f(z * m.excess_se)})`;
}

export async function compareGenerations(gens: string[], out: string, opts: CompareOptions = {}): Promise<Ledger> {
  if (gens.length < 2)
    throw new UsageError('compare needs at least two generations: GEN0 (the human anchor) and one more');
  const k = opts.k ?? 5;
  const { z, decisive, replicates } = checkOptions(opts);
  const anchor = loadVectors(gens[0]!);
  // Every generation is measured in GEN0's frame (anchor-frame.ts), fitted here or reused, saved beside the ledger.
  mkdirSync(resolve(out), { recursive: true });
  const frameFile = join(resolve(out), ANCHOR_FRAME_FILE);
  const { summary: frame, frame: inFrame } = await intoAnchorFrame(anchor, [], 'cosine', opts, frameFile);
  const anchorIndex = AnnIndex.build(anchor);
  // The anchor's ef and radii do not depend on the generation: computed against the first, reused for the rest.
  let anchorSide: SideRadii | undefined;
  const partial: Omit<GenerationEntry, 'distinct_at_budget' | 'verdict' | 'early_collapse'>[] = [];
  const ngrams: number[][] = [];
  for (const [g, dir] of gens.entries()) {
    const { rows, texts } = await readGeneration(dir);
    const vectors = g === 0 ? anchor : loadComparable(dir, anchor);
    if (g > 0 && inFrame) applyAnchorFrame(inFrame, vectors, 'cosine');
    const tokens = rows.reduce((a, r) => a + r.tokens, 0);
    const nll = rows.reduce((a, r) => a + r.mean_nll * r.tokens, 0);
    const det = detectorFor(dir, opts.detector);
    let coverage: GenerationEntry['coverage_of_gen0'] = null;
    if (g > 0) {
      const p = await prdc(localPair(anchor, anchorIndex, vectors, AnnIndex.build(vectors)), {
        k,
        seed: opts.seed,
        referenceSide: anchorSide,
      });
      anchorSide = p.referenceSide;
      coverage = {
        precision: p.precision,
        recall: p.recall,
        density: p.density,
        coverage: p.coverage,
        ef_tuning: p.efSearch,
      };
    }
    const words = texts.map((t) => wordTokens(t));
    ngrams.push(EQUAL_SIZE_ORDERS.map((n) => countNgrams(words, n)));
    partial.push({
      generation: g,
      source: resolve(dir),
      documents: rows.length,
      perplexity: Math.exp(nll / tokens),
      diversity: corpusDiversity(texts, vectors, { seed: opts.seed }),
      coverage_of_gen0: coverage,
      flagged_synthetic: det
        ? {
            share: rows.filter((r) => applyDetector(det.spec, r).verdict === 'synthetic').length / rows.length,
            detector: det.name,
          }
        : null,
    });
  }
  // Second pass: the budget needs every generation's n-gram count; the texts are read again rather than all held.
  const budget = { 1: 0, 2: 0, 3: 0 };
  for (const [t, n] of EQUAL_SIZE_ORDERS.entries()) budget[n] = commonBudget(ngrams.map((c) => c[t]!));
  const withDistinct: Omit<GenerationEntry, 'verdict' | 'early_collapse'>[] = [];
  for (const [g, dir] of gens.entries()) {
    const words = (await readGeneration(dir)).texts.map((t) => wordTokens(t));
    const at = (n: 1 | 2 | 3) => distinctAtBudget(words, n, budget[n], { replicates, seed: opts.seed });
    withDistinct.push({ ...partial[g]!, distinct_at_budget: { 1: at(1), 2: at(2), 3: at(3) } });
  }
  const coverageAnchor = expectedCoverage(partial[0]!.documents, partial[0]!.documents, k);
  const series = verdictSeries(withDistinct, decisive, coverageAnchor);
  const verdicts = generationVerdicts(series, { z });
  const flags: Ledger['flags'] = [];
  const entries: GenerationEntry[] = withDistinct.map((e, g) => {
    if (g === 0) return { ...e, verdict: null, early_collapse: null };
    const v = verdicts[g - 1]!;
    const reasons =
      v.verdict === 'compounding loss'
        ? v.metrics
            .filter((m) => m.decisive && m.verdict === 'compounding loss')
            .map((m) => evidenceLine(m, m.value + m.cumulative, z))
        : [];
    if (reasons.length) flags.push({ generation: g, reasons });
    return { ...e, verdict: v, early_collapse: reasons };
  });
  const ledger: Ledger = {
    tool: 'tailguard',
    command: 'compare',
    ledger_version: 2,
    k,
    frame,
    verdict_rule: {
      z,
      bound_factor: ACCUMULATION_BOUND,
      decisive,
      budget,
      replicates,
      coverage_anchor: coverageAnchor,
      summary: RULE_SUMMARY,
    },
    generations: entries,
    flags,
  };
  await writeFileAtomic(join(resolve(out), 'ledger.json'), `${JSON.stringify(ledger, null, 2)}\n`);
  await writeFileAtomic(join(resolve(out), 'report.json'), `${JSON.stringify(ledger, null, 2)}\n`);
  await writeFileAtomic(join(resolve(out), 'report.html'), await compareHtml(ledger));
  return ledger;
}
