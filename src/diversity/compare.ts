/**
 * `compareGenerations`: diversity across model generations. GEN0 is the human anchor; each GEN is a `tailguard score`
 * output directory (its texts are read from the corpus its run.json names). Per generation: the diversity metrics
 * (metrics.ts), coverage against GEN0 (precision/recall/density/coverage, coverage/prdc.ts), the share the detector
 * flags as machine-written (the model's zero-shot Fast-DetectGPT, or --detector), and corpus perplexity
 * exp(Σ NLL / Σ tokens). Written to OUT/ledger.json (also as OUT/report.json) and OUT/report.html.
 *
 * Early collapse: a generation is flagged when diversity or coverage falls from the previous generation — distinct-2
 * by more than 2% (relative), Vendi by more than 5% (relative), or coverage of GEN0 by more than 0.02 — while
 * perplexity holds or improves (no more than 2% above the previous generation's): the data looks as fluent as before
 * but covers less of the human distribution.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { openCorpus } from '../io/open-corpus.js';
import { AnnIndex } from '../coverage/ann-index.js';
import { localPair } from '../coverage/index-pair.js';
import { prdc } from '../coverage/prdc.js';
import { loadComparable, loadVectors } from '../coverage/vectors.js';
import { applyDetector, type DetectorSpec } from '../detect/detector.js';
import type { ScoreRow } from '../detect/features.js';
import { corpusFields, readRun, isScoreDir, scoreRows } from '../score/score-dir.js';
import { modelZeroShot, readDetectorFile } from '../detect/detect-corpus.js';
import type { Metric, PrdcResult, SideRadii } from '../coverage/prdc.js';
import { compareHtml } from '../report/reports.js';
import { corpusDiversity, type Diversity } from './metrics.js';

export interface GenerationEntry {
  generation: number;
  source: string;
  documents: number;
  perplexity: number;
  diversity: Diversity;
  /** ef_tuning: each index's ef and self-query recall (ef-tuning.ts); `reached` false means approximate metrics. */
  coverage_of_gen0: { precision: Metric; recall: Metric; density: Metric; coverage: Metric; ef_tuning: PrdcResult['efSearch'] } | null;
  flagged_synthetic: { share: number; detector: string } | null;
  early_collapse: string[] | null;
}

export interface Ledger {
  tool: 'tailguard';
  command: 'compare';
  k: number;
  generations: GenerationEntry[];
  flags: { generation: number; reasons: string[] }[];
}

async function readGeneration(dir: string): Promise<{ rows: ScoreRow[]; texts: string[] }> {
  if (!isScoreDir(dir)) throw new UsageError(`${dir} is not a tailguard score output directory (run \`tailguard score\` on each generation first)`);
  const run = readRun(dir);
  const rows: ScoreRow[] = [];
  for await (const row of scoreRows(dir)) rows.push(row);
  if (!existsSync(run.input)) throw new UsageError(`${dir}: the scored corpus ${run.input} no longer exists; diversity needs the texts`);
  const byLine = new Map<number, string>();
  const wanted = new Set(rows.map((r) => r.line));
  for await (const rec of openCorpus(run.input, corpusFields(run))) if (rec.kind === 'doc' && wanted.has(rec.line)) byLine.set(rec.line, rec.text);
  return { rows, texts: rows.map((r) => byLine.get(r.line) ?? '') };
}

function detectorFor(dir: string, detectorPath?: string): { spec: DetectorSpec; name: string } | null {
  if (detectorPath) return { spec: readDetectorFile(detectorPath).detector, name: resolve(detectorPath) };
  const zs = modelZeroShot(readRun(dir).model.dir, 0.01);
  return zs ? { spec: zs.spec, name: 'zero-shot fast_detect at 1% FPR' } : null;
}

export async function compareGenerations(gens: string[], out: string, opts: { k?: number; detector?: string; seed?: number } = {}): Promise<Ledger> {
  if (gens.length < 2) throw new UsageError('compare needs at least two generations: GEN0 (the human anchor) and one more');
  const k = opts.k ?? 5;
  const anchor = loadVectors(gens[0]!);
  const anchorIndex = AnnIndex.build(anchor);
  // The anchor's ef and radii do not depend on the generation: computed against the first, reused for the rest.
  let anchorSide: SideRadii | undefined;
  const entries: GenerationEntry[] = [];
  for (const [g, dir] of gens.entries()) {
    const { rows, texts } = await readGeneration(dir);
    const vectors = g === 0 ? anchor : loadComparable(dir, anchor);
    const tokens = rows.reduce((a, r) => a + r.tokens, 0);
    const nll = rows.reduce((a, r) => a + r.mean_nll * r.tokens, 0);
    const det = detectorFor(dir, opts.detector);
    let coverage: GenerationEntry['coverage_of_gen0'] = null;
    if (g > 0) {
      const p = await prdc(localPair(anchor, anchorIndex, vectors, AnnIndex.build(vectors)), { k, seed: opts.seed, referenceSide: anchorSide });
      anchorSide = p.referenceSide;
      coverage = { precision: p.precision, recall: p.recall, density: p.density, coverage: p.coverage, ef_tuning: p.efSearch };
    }
    entries.push({
      generation: g,
      source: resolve(dir),
      documents: rows.length,
      perplexity: Math.exp(nll / tokens),
      diversity: corpusDiversity(texts, vectors, { seed: opts.seed }),
      coverage_of_gen0: coverage,
      flagged_synthetic: det ? { share: rows.filter((r) => applyDetector(det.spec, r).verdict === 'synthetic').length / rows.length, detector: det.name } : null,
      early_collapse: null,
    });
  }
  const flags: Ledger['flags'] = [];
  for (let g = 1; g < entries.length; g++) {
    const prev = entries[g - 1]!;
    const cur = entries[g]!;
    const reasons: string[] = [];
    const rel = (a: number, b: number) => (b - a) / a;
    if (rel(prev.diversity.distinct[2], cur.diversity.distinct[2]) < -0.02) reasons.push(`distinct-2 ${prev.diversity.distinct[2].toFixed(3)} → ${cur.diversity.distinct[2].toFixed(3)}`);
    if (rel(prev.diversity.vendi, cur.diversity.vendi) < -0.05) reasons.push(`Vendi ${prev.diversity.vendi.toFixed(1)} → ${cur.diversity.vendi.toFixed(1)}`);
    const pc = prev.coverage_of_gen0?.coverage.value ?? 1;
    const cc = cur.coverage_of_gen0?.coverage.value ?? 1;
    if (cc < pc - 0.02) reasons.push(`coverage of GEN0 ${pc.toFixed(3)} → ${cc.toFixed(3)}`);
    const pplHolds = cur.perplexity <= prev.perplexity * 1.02;
    if (reasons.length > 0 && pplHolds) {
      const all = [...reasons, `while perplexity holds or improves (${prev.perplexity.toFixed(1)} → ${cur.perplexity.toFixed(1)})`];
      cur.early_collapse = all;
      flags.push({ generation: g, reasons: all });
    } else cur.early_collapse = [];
  }
  const ledger: Ledger = { tool: 'tailguard', command: 'compare', k, generations: entries, flags };
  mkdirSync(resolve(out), { recursive: true });
  await writeFileAtomic(join(resolve(out), 'ledger.json'), `${JSON.stringify(ledger, null, 2)}\n`);
  await writeFileAtomic(join(resolve(out), 'report.json'), `${JSON.stringify(ledger, null, 2)}\n`);
  await writeFileAtomic(join(resolve(out), 'report.html'), await compareHtml(ledger));
  return ledger;
}
