/**
 * How honest are per-domain thresholds at small sizes? `calibrate --domain-field` gives a domain its own threshold
 * once its out-of-fold humans can certify the target FPR (59 at 5%), else the common-scale one. Over several random
 * draws of n human and n machine calibration texts per detect-dev domain, this measures on each domain's whole
 * evaluation side the human FPR at the threshold calibrate ships, at the common-scale threshold, and at the pooled
 * detector's; and whether the FPR estimate calibrate writes (its Clopper–Pearson interval) holds the measured FPR.
 * Writes bench/results/domain-thresholds.md.
 *
 *   node --import tsx bench/domain-thresholds.ts [--dev-scores DIR] [--sizes 100] [--draws 5] [--fpr 0.05]
 *
 * Needs the detect-dev score directory bench/detect-eval.ts writes (tmp/detect-eval/tailguard-ref-6m/dev-scores).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { applyDetector, type DetectorSpec } from '../src/detect/detector.js';
import { calibrateByDomainWithOof } from '../src/detect/domains.js';
import { DEFAULT_FEATURE_GROUPS, type ScoreRow } from '../src/detect/features.js';
import { minHumanForFpr } from '../src/detect/metrics.js';
import { mulberry32 } from '../src/random.js';
import { runIfMain } from '../scripts/lib/files.js';
import { drawFrom, loadDev, readScores } from './lib/detect-dev.js';
import { machineDescription } from './lib/machine.js';

interface Cell {
  n: number;
  draw: number;
  domain: string;
  source: 'domain' | 'common';
  shipped: number;
  common: number;
  pooled: number;
  tpr: number;
  ciLo: number;
  ciHi: number;
}

const pc = (x: number) => `${(100 * x).toFixed(1)}%`;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'dev-scores': { type: 'string', default: 'tmp/detect-eval/tailguard-ref-6m/dev-scores' },
      sizes: { type: 'string', default: '100' },
      draws: { type: 'string', default: '5' },
      fpr: { type: 'string', default: '0.05' },
      out: { type: 'string', default: 'bench/results/domain-thresholds.md' },
    },
  });
  const scoresDir = values['dev-scores']!;
  if (!existsSync(join(scoresDir, 'scores.jsonl')))
    throw new Error(`${scoresDir} holds no scores.jsonl: run bench/detect-eval.ts first (it scores detect-dev there)`);
  const machine = machineDescription(process.cwd());
  const fpr = Number(values.fpr);
  const draws = Number(values.draws);
  const sizes = values.sizes!.split(',').map(Number);
  const dev = readScores(scoresDir);
  const all = loadDev().items.filter((i) => dev.has(i.id));
  const datasets = [...new Set(all.map((i) => i.dataset))].sort();
  const ids = (d: string, label: 0 | 1, side: 'cal' | 'eval') => [
    ...new Set(all.filter((i) => i.dataset === d && i.label === label && i.split === side).map((i) => i.id)),
  ];
  const flagged = (spec: DetectorSpec, rows: ScoreRow[]) =>
    rows.filter((r) => applyDetector(spec, r).verdict === 'synthetic').length / rows.length;

  const cells: Cell[] = [];
  for (const n of sizes) {
    const doms = datasets.filter((d) => ids(d, 0, 'cal').length >= n && ids(d, 1, 'cal').length >= n);
    for (let draw = 0; draw < draws; draw++) {
      const t = Date.now();
      const rng = mulberry32(7000 * n + draw);
      const pick = (pool: string[]) => drawFrom(rng, pool, n).map((id) => dev.get(id)!);
      const human: ScoreRow[] = [];
      const machineRows: ScoreRow[] = [];
      const humanDomains: string[] = [];
      const syntheticDomains: string[] = [];
      for (const d of doms) {
        const h = pick(ids(d, 0, 'cal'));
        const m = pick(ids(d, 1, 'cal'));
        human.push(...h);
        machineRows.push(...m);
        humanDomains.push(...h.map(() => d));
        syntheticDomains.push(...m.map(() => d));
      }
      const cal = calibrateByDomainWithOof(human, machineRows, {
        targetFpr: fpr,
        model: 'bench',
        features: DEFAULT_FEATURE_GROUPS,
        field: 'dataset',
        humanDomains,
        syntheticDomains,
        minPerClass: Math.min(30, n),
        seed: 1 + draw,
      });
      const common = cal.file.domains!.pooling!.common_threshold;
      for (const d of doms) {
        const det = cal.file.domains!.detectors[d]!;
        const spec = det.detector;
        const h = ids(d, 0, 'eval').map((id) => dev.get(id)!);
        const m = ids(d, 1, 'eval').map((id) => dev.get(id)!);
        const commonSpec = { ...spec, threshold: det.scale!.location + det.scale!.spread * common } as DetectorSpec;
        cells.push({
          n,
          draw,
          domain: d,
          source: det.threshold_source!,
          shipped: flagged(spec, h),
          common: flagged(commonSpec, h),
          pooled: flagged(cal.file.detector, h),
          tpr: flagged(spec, m),
          ciLo: det.fpr_estimate!.ci.lo,
          ciHi: det.fpr_estimate!.ci.hi,
        });
      }
      console.error(`n=${n} draw ${draw + 1}/${draws}: ${((Date.now() - t) / 1000).toFixed(0)} s`);
    }
  }

  const dev1 = (xs: number[]) => mean(xs.map((x) => Math.abs(x - fpr)));
  const lines: string[] = [];
  for (const n of sizes) {
    const at = cells.filter((c) => c.n === n);
    if (at.length === 0) continue;
    const k = Math.floor(fpr * n + 1e-9);
    const a = k + 1;
    const b = n - k;
    const betaMean = a / (a + b);
    const betaSd = Math.sqrt((a * b) / ((a + b) ** 2 * (a + b + 1)));
    lines.push(
      `### n = ${n} per class per domain (${draws} draws; ${[...new Set(at.map((c) => c.domain))].length} domains)`,
      '',
      '| domain | threshold | eval humans: FPR shipped, mean (SD) | common-scale | pooled | TPR shipped | estimate CI holds the eval FPR |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const d of [...new Set(at.map((c) => c.domain))]) {
      const c = at.filter((x) => x.domain === d);
      const held = c.filter((x) => x.shipped >= x.ciLo && x.shipped <= x.ciHi).length;
      lines.push(
        `| ${d} | ${[...new Set(c.map((x) => x.source))].join('/')} | ${pc(mean(c.map((x) => x.shipped)))} (${pc(sd(c.map((x) => x.shipped)))}) | ${pc(mean(c.map((x) => x.common)))} | ${pc(mean(c.map((x) => x.pooled)))} | ${pc(mean(c.map((x) => x.tpr)))} | ${held}/${c.length} |`,
      );
    }
    const held = at.filter((x) => x.shipped >= x.ciLo && x.shipped <= x.ciHi).length;
    lines.push(
      `| **all** | | ${pc(mean(at.map((x) => x.shipped)))} (${pc(sd(at.map((x) => x.shipped)))}) | ${pc(mean(at.map((x) => x.common)))} (${pc(sd(at.map((x) => x.common)))}) | ${pc(mean(at.map((x) => x.pooled)))} (${pc(sd(at.map((x) => x.pooled)))}) | ${pc(mean(at.map((x) => x.tpr)))} | ${held}/${at.length} |`,
      `| mean abs(FPR − ${pc(fpr)}) | | ${pc(dev1(at.map((x) => x.shipped)))} | ${pc(dev1(at.map((x) => x.common)))} | ${pc(dev1(at.map((x) => x.pooled)))} | | |`,
      '',
      `Sampling alone, for a threshold set on n = ${n} of a domain's own exchangeable human scores allowing k = ${k} above ` +
        `it: the FPR on new humans is Beta(${a}, ${b}), mean ${pc(betaMean)}, SD ${pc(betaSd)}.`,
      '',
    );
  }
  const md = `# Per-domain thresholds at small sizes

\`node --import tsx bench/domain-thresholds.ts --sizes ${values.sizes} --draws ${draws} --fpr ${fpr}\` (${new Date().toISOString().slice(0, 10)}).
Machine: ${machine}.

detect-dev (bench/detect-eval.ts's split and scores, \`tailguard-ref-6m\`, default features), each dataset a domain.
Per draw: n human and n machine calibration texts per domain at random, \`calibrateByDomain\` (partial pooling) at a
${pc(fpr)} target; a domain's own threshold once it has ${minHumanForFpr(fpr)} humans, else the common-scale one. Measured on
each domain's whole evaluation side: the human FPR at the threshold calibrate ships, at the common-scale threshold
(the same detector, the threshold of the common score scale) and at the pooled detector; TPR at the shipped threshold;
and whether the shipped detector's \`fpr_estimate\` interval (Clopper–Pearson 95%, from its calibration humans) holds
the evaluation FPR.

${lines.join('\n')}`;
  mkdirSync(dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, md);
  console.log(md);
}

runIfMain(import.meta.url, main);
