/**
 * Detector evaluation on ../shared/eval/detect-dev (human vs machine text from the Fast-DetectGPT study) and on the
 * human held-out corpus, with tailguard's engine and detectors. Writes bench/detect.md.
 *
 *   node --import tsx bench/detect-eval.ts [--model NAME] [--observer-model NAME] [--pairs 200] [--repeats 3]
 *       [--work tmp/detect-eval] [--dev-scores DIR] [--heldout-scores DIR] [--curve-sizes 30,100,300]
 *       [--skip curves,cross,heldout] [--variants signals+binoculars,default+binoculars] [--out bench/detect.md]
 *
 * With both curves and cross skipped, only the main tables' pairs are scored; --variants limits the feature-group rows.
 *
 * Split: a pair (human text, machine continuation of its first ~30 tokens) goes to calibration or evaluation by a
 * hash of the human text, so the same human text is on the same side for every generator and no row is ever in both.
 * Every detect-dev text is scored once (all pairs); the main table uses the first --pairs pairs of each file, the
 * learning curves and the cross-domain table all of them. Calibrated detectors are fitted with the library's own
 * calibrate / calibrateByDomain (penalties by nested cross-validation); every number below is measured on the
 * evaluation side, or on held-out human text never used for fitting.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  applyDetector,
  calibrate,
  detectorScore,
  zeroShotDetector,
  type DetectorSpec,
} from '../src/detect/detector.js';
import { calibrateByDomainWithOof } from '../src/detect/domains.js';
import {
  featureNames,
  orientedScore,
  type FeatureGroup,
  type FeatureName,
  type ScoreRow,
} from '../src/detect/features.js';
import { averageModels, nestedOutOfFold, standardise } from '../src/detect/logistic.js';
import { auroc, thresholdAtFpr } from '../src/detect/metrics.js';
import { designMatrix } from '../src/detect/detector.js';
import { mulberry32 } from '../src/random.js';
import { scoreCorpus } from '../src/index.js';
import { runIfMain } from '../scripts/lib/files.js';
import { drawFrom, loadDev, readScores, type Item } from './lib/detect-dev.js';

const NOTES_MARKER = '<!-- notes: hand-written below, kept when the tables above are regenerated -->';
const HELDOUT = '../shared/corpora/human/heldout.jsonl';
const CURVE_FPR = 0.05;

/** Published AUROCs (detect-dev README): white-box mean over xsum/squad/writing; black-box per dataset. */
const PUBLISHED_WHITE: Record<string, [number, number, number, number]> = {
  'gpt2-xl': [0.913, 0.939, 0.517, 0.997],
  'opt-2.7b': [0.896, 0.922, 0.483, 0.991],
  'gpt-neo-2.7B': [0.89, 0.923, 0.49, 0.994],
  'gpt-j-6B': [0.848, 0.882, 0.501, 0.987],
  'gpt-neox-20b': [0.795, 0.831, 0.533, 0.975],
};
const PUBLISHED_BLACK: Record<string, Record<string, [number, number, number]>> = {
  'gpt-3.5-turbo': { xsum: [0.958, 0.958, 0.991], writing: [0.974, 0.966, 0.992], pubmed: [0.878, 0.869, 0.902] },
  'gpt-4': { xsum: [0.798, 0.797, 0.907], writing: [0.855, 0.829, 0.961], pubmed: [0.81, 0.8, 0.85] },
  davinci: { xsum: [0.831, 0.81, 0.94], writing: [0.85, 0.832, 0.949], pubmed: [0.567, 0.553, 0.723] },
};

/** Score rows by id, each with its embedding (the score directory's embeddings.npy). */
async function scoreOnce(
  input: string,
  out: string,
  model: string,
  observer: string | undefined,
): Promise<Map<string, ScoreRow>> {
  if (!existsSync(join(out, 'run.json')))
    await scoreCorpus({ input, out, model, observerModel: observer, idField: 'id', device: 'cpu' });
  return readScores(out);
}

const f3 = (x: number) => (Number.isNaN(x) ? '—' : x.toFixed(3));
const pc = (x: number) => (Number.isNaN(x) ? '—' : `${(100 * x).toFixed(1)}%`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const labelsOf = (h: unknown[], m: unknown[]) => [...h.map(() => 0 as const), ...m.map(() => 1 as const)];
const au = (h: ScoreRow[], m: ScoreRow[], f: (r: ScoreRow) => number) => auroc([...h, ...m].map(f), labelsOf(h, m));
const tpr1 = (h: ScoreRow[], m: ScoreRow[], f: (r: ScoreRow) => number) => {
  const t = thresholdAtFpr(h.map(f), 0.01).threshold;
  return m.filter((r) => f(r) > t).length / m.length;
};
const flagRate = (spec: DetectorSpec, rows: ScoreRow[]) =>
  rows.filter((r) => applyDetector(spec, r).verdict === 'synthetic').length / rows.length;
const uniqueRows = (items: Item[], row: (i: Item) => ScoreRow) => [
  ...new Map(items.map((i) => [i.id, row(i)])).values(),
];

function log(msg: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

interface Ctx {
  model: string;
  row: (i: Item) => ScoreRow;
  cal: Item[];
  ev: Item[];
  fpr: number;
  groups: FeatureGroup[];
}

/** Calibrates the pooled detector on the calibration side's items (each human text once). */
function pooledOn(items: Item[], ctx: Ctx, groups: readonly FeatureGroup[], fpr = ctx.fpr, seed = 1) {
  const h = uniqueRows(
    items.filter((i) => i.label === 0),
    ctx.row,
  );
  const m = uniqueRows(
    items.filter((i) => i.label === 1),
    ctx.row,
  );
  return calibrate(h, m, { targetFpr: fpr, model: ctx.model, features: groups, seed });
}

/** One detector per domain on that domain alone (penalties chosen by nested CV; threshold from its OOF humans). */
function separateOn(h: ScoreRow[], m: ScoreRow[], groups: readonly FeatureGroup[], fpr: number) {
  const rows = [...h, ...m];
  const y = labelsOf(h, m);
  const names = featureNames(groups, groups.includes('embedding') ? rows[0]!.embedding!.length : 0);
  const X = designMatrix(rows, names);
  const oof = nestedOutOfFold(X, y, { folds: 5, innerFolds: 4 });
  const threshold = thresholdAtFpr(oof.oofScores.subarray(0, h.length), fpr).threshold;
  // Deployed as calibrate deploys: the mean of the outer folds' models, on the scale the threshold was set on.
  const model = { ...averageModels(oof.foldModels, standardise(X)), features: names };
  return { spec: { kind: 'logistic', model, threshold } as DetectorSpec, humans: h.length };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'tailguard-ref-6m' },
      'observer-model': { type: 'string' },
      pairs: { type: 'string', default: '200' },
      repeats: { type: 'string', default: '3' },
      work: { type: 'string', default: 'tmp/detect-eval' },
      out: { type: 'string', default: 'bench/detect.md' },
      heldout: { type: 'string', default: HELDOUT },
      fpr: { type: 'string', default: '0.01' },
      'dev-scores': { type: 'string' },
      'heldout-scores': { type: 'string' },
      skip: { type: 'string', default: '' },
      'curve-sizes': { type: 'string', default: '30,100,300' },
      variants: { type: 'string' },
    },
  });
  const model = values.model!;
  const observer = values['observer-model'];
  const tag = observer ? `${model}+${observer.split('/').pop()}` : model;
  const work = join(values.work!, tag.replace(/[^\w.+-]/g, '_'));
  mkdirSync(work, { recursive: true });
  const skip = new Set(values.skip!.split(',').filter(Boolean));
  const { items, texts } = loadDev();
  const pairs = Number(values.pairs);
  // The curves and the cross-domain table use every pair; without them only the main tables' pairs are scored.
  const mainOnly = skip.has('curves') && skip.has('cross');
  const wanted = mainOnly ? new Set(items.filter((it) => it.index < pairs).map((it) => it.id)) : null;
  const input = join(work, mainOnly ? `dev-${pairs}.jsonl` : 'dev.jsonl');
  const toScore = [...texts].filter(([id]) => !wanted || wanted.has(id));
  if (!existsSync(input))
    writeFileSync(input, toScore.map(([id, text]) => JSON.stringify({ id, text })).join('\n') + '\n');
  log(`scoring ${toScore.length} detect-dev texts${skip.has('heldout') ? '' : ` and ${values.heldout!}`} with ${tag}`);
  const devDir = join(work, mainOnly ? `dev-${pairs}-scores` : 'dev-scores');
  const dev = values['dev-scores'] ? readScores(values['dev-scores']) : await scoreOnce(input, devDir, model, observer);
  const held = skip.has('heldout')
    ? new Map<string, ScoreRow>()
    : values['heldout-scores']
      ? readScores(values['heldout-scores'])
      : await scoreOnce(values.heldout!, join(work, 'heldout-scores'), model, observer);
  const heldSource = new Map(
    readFileSync(values.heldout!, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const r = JSON.parse(l) as { id: string; source: string };
        return [r.id, r.source] as const;
      }),
  );
  const hasBinoculars = [...dev.values()].every((r) => typeof r.binoculars === 'number');
  const row = (it: Item) => dev.get(it.id)!;
  const all = items.filter((it) => dev.has(it.id));
  const main200 = all.filter((it) => it.index < pairs);
  const fpr = Number(values.fpr);
  const groups: FeatureGroup[] = ['signals', 'tokens', 'embedding'];
  const ctx: Ctx = {
    model: tag,
    row,
    cal: main200.filter((i) => i.split === 'cal'),
    ev: main200.filter((i) => i.split === 'eval'),
    fpr,
    groups,
  };
  const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores`;

  // ---- Main table: zero-shot signals and calibrated detectors, per generator × domain ----
  log('calibrating the pooled detectors (nested cross-validation)');
  const variants: [string, FeatureGroup[]][] = [
    ['signals', ['signals']],
    ['signals+tokens', ['signals', 'tokens']],
    ['signals+embedding', ['signals', 'embedding']],
    ['default (signals+tokens+embedding)', groups],
    ...(hasBinoculars
      ? ([
          ['signals+binoculars', ['signals', 'binoculars']],
          ['default+binoculars', [...groups, 'binoculars']],
        ] as [string, FeatureGroup[]][])
      : []),
  ];
  // --variants keeps only the named rows of the feature-group table ('signals' and the default are always fitted).
  const keep = values.variants
    ? new Set(['signals', 'default (signals+tokens+embedding)', ...values.variants.split(',')])
    : null;
  const chosen = variants.filter(([name]) => !keep || keep.has(name));
  const fitted = new Map<string, ReturnType<typeof pooledOn>>();
  for (const [name, g] of chosen) {
    const t = Date.now();
    fitted.set(name, pooledOn(ctx.cal, ctx, g));
    log(`  ${name}: ${((Date.now() - t) / 1000).toFixed(0)} s, l2 ${fitted.get(name)!.file.calibration.penalty?.l2}`);
  }
  const det = fitted.get('default (signals+tokens+embedding)')!.file;
  const sig = fitted.get('signals')!.file;
  const fdZero = zeroShotDetector(
    'fast_detect',
    uniqueRows(
      ctx.cal.filter((i) => i.label === 0),
      row,
    ).map((r) => orientedScore(r, 'fast_detect')),
    fpr,
  );
  const files = [...new Set(main200.map((i) => `${i.dataset}_${i.generator}`))].sort();
  /** A generator × dataset cell's evaluation rows, humans and machine texts. */
  const evalCell = (key: string) => {
    const evk = ctx.ev.filter((i) => `${i.dataset}_${i.generator}` === key);
    return { h: evk.filter((i) => i.label === 0).map(row), m: evk.filter((i) => i.label === 1).map(row) };
  };
  const ZERO: FeatureName[] = ['mean_nll', 'mean_log_rank', 'mean_entropy', 'fast_detect'];
  const zeroNames = ['likelihood', 'log-rank', 'entropy', 'Fast-DetectGPT', ...(hasBinoculars ? ['Binoculars'] : [])];
  const zeroScore = (k: number) => (r: ScoreRow) => (k < 4 ? orientedScore(r, ZERO[k]!) : -(r.binoculars as number));
  const lines: string[] = [];
  lines.push(
    `| data | generator | n (h/m) | ${zeroNames.join(' | ')} | logistic, signals (before) | logistic, default | TPR@1% FPR (signals / default) | default at its threshold: FPR / TPR | published (lik. / log-rank / entropy / F-DGPT) |`,
  );
  lines.push(`| --- | --- | --- | ${zeroNames.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: | --- |`);
  const means: number[][] = [];
  const tprs: number[][] = [];
  for (const key of files) {
    const [dataset, generator] = key.split('_') as [string, string];
    const { h, m } = evalCell(key);
    if (h.length < 5 || m.length < 5) continue;
    const z = zeroNames.map((_, k) => au(h, m, zeroScore(k)));
    const s = au(h, m, (r) => detectorScore(sig.detector, r));
    const l = au(h, m, (r) => detectorScore(det.detector, r));
    const t = [tpr1(h, m, (r) => detectorScore(sig.detector, r)), tpr1(h, m, (r) => detectorScore(det.detector, r))];
    means.push([...z, s, l]);
    tprs.push(t);
    const pub = PUBLISHED_BLACK[generator]?.[dataset];
    const pw = PUBLISHED_WHITE[generator];
    const published = pub
      ? `black-box ${pub[0]} / ${pub[1]} / — / ${pub[2]}`
      : pw
        ? `white-box (3-data mean) ${pw.join(' / ')}`
        : '—';
    lines.push(
      `| ${dataset} | ${generator} | ${h.length}/${m.length} | ${z.map(f3).join(' | ')} | ${f3(s)} | ${f3(l)} | ${pc(t[0]!)} / ${pc(t[1]!)} | ${pc(flagRate(det.detector, h))} / ${pc(flagRate(det.detector, m))} | ${published} |`,
    );
  }
  const colMean = (rows: number[][], k: number) => mean(rows.map((r) => r[k]!));
  lines.push(
    `| **mean** | | | ${means[0]!.map((_, k) => `**${f3(colMean(means, k))}**`).join(' | ')} | **${pc(colMean(tprs, 0))} / ${pc(colMean(tprs, 1))}** | | |`,
  );

  // ---- Feature groups: mean AUROC over the same cells ----
  const ablation = [
    '| features | mean AUROC | mean TPR at 1% FPR | L2 penalty (cross-validated) | out-of-fold AUROC on the calibration side |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const [name] of chosen) {
    const f = fitted.get(name)!.file;
    const cells = files.map((key) => {
      const { h, m } = evalCell(key);
      return [au(h, m, (r) => detectorScore(f.detector, r)), tpr1(h, m, (r) => detectorScore(f.detector, r))];
    });
    ablation.push(
      `| ${name} | ${f3(mean(cells.map((c) => c[0]!)))} | ${pc(mean(cells.map((c) => c[1]!)))} | ${f.calibration.penalty?.l2} | ${f3(f.calibration.stats.auroc)} |`,
    );
  }

  // ---- Learning curves per domain: pooled vs partially pooled vs separate ----
  const datasets = [...new Set(all.map((i) => i.dataset))].sort();
  const curve: string[] = [
    `| n per class per domain | domain | AUROC pooled | AUROC partial | AUROC separate | FPR pooled | FPR partial | FPR separate | partial's threshold |`,
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  const curveMeans: string[] = [
    '| n per class per domain | domains | mean AUROC pooled | partial | separate | mean abs(FPR − 5%) pooled | partial | separate |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const sizes = values['curve-sizes']!.split(',')
    .map(Number)
    .sort((a, b) => a - b);
  const drawsAt: string[] = [];
  if (!skip.has('curves')) {
    const calPool = all.filter((i) => i.split === 'cal');
    const evPool = all.filter((i) => i.split === 'eval');
    const byDom = (d: string, label: 0 | 1, side: Item[]) => [
      ...new Set(side.filter((i) => i.dataset === d && i.label === label).map((i) => i.id)),
    ];
    for (const n of sizes) {
      const doms = datasets.filter((d) => byDom(d, 0, calPool).length >= n && byDom(d, 1, calPool).length >= n);
      const acc = new Map<string, number[][]>();
      // Draws: --repeats at the smallest size, proportionally fewer at larger ones (each evaluates on the whole side).
      const repeats = Math.max(1, Math.round((Number(values.repeats) * sizes[0]!) / n));
      drawsAt.push(`${repeats} at n = ${n}`);
      for (let rep = 0; rep < repeats; rep++) {
        const t = Date.now();
        const rng = mulberry32(1000 * n + rep);
        const pick = (ids: string[]) => drawFrom(rng, ids, n);
        const hs: ScoreRow[] = [],
          ms: ScoreRow[] = [],
          hd: string[] = [],
          md: string[] = [];
        const perDomain = new Map<string, { h: ScoreRow[]; m: ScoreRow[] }>();
        for (const d of doms) {
          const h = pick(byDom(d, 0, calPool)).map((id) => dev.get(id)!);
          const m = pick(byDom(d, 1, calPool)).map((id) => dev.get(id)!);
          hs.push(...h);
          ms.push(...m);
          hd.push(...h.map(() => d));
          md.push(...m.map(() => d));
          perDomain.set(d, { h, m });
        }
        const partial = calibrateByDomainWithOof(hs, ms, {
          targetFpr: CURVE_FPR,
          model: tag,
          features: groups,
          field: 'dataset',
          humanDomains: hd,
          syntheticDomains: md,
          minPerClass: Math.min(30, n),
          seed: 1 + rep,
        });
        const pooled = partial.file.detector;
        for (const d of doms) {
          const h = byDom(d, 0, evPool).map((id) => dev.get(id)!);
          const m = byDom(d, 1, evPool).map((id) => dev.get(id)!);
          const part = partial.file.domains!.detectors[d]!;
          const sep = separateOn(perDomain.get(d)!.h, perDomain.get(d)!.m, groups, CURVE_FPR);
          const r = [
            au(h, m, (x) => detectorScore(pooled, x)),
            au(h, m, (x) => detectorScore(part.detector, x)),
            au(h, m, (x) => detectorScore(sep.spec, x)),
            flagRate(pooled, h),
            flagRate(part.detector, h),
            flagRate(sep.spec, h),
            part.threshold_source === 'domain' ? 1 : 0,
          ];
          acc.set(d, [...(acc.get(d) ?? []), r]);
        }
        log(
          `  learning curve n=${n} repeat ${rep + 1}: ${((Date.now() - t) / 1000).toFixed(0)} s, deviation penalty ${partial.file.domains?.pooling?.l2_dev ?? '∞'}`,
        );
      }
      const rowsN: number[][] = [];
      for (const d of doms) {
        const r = acc.get(d)!;
        const avg = r[0]!.map((_, k) => mean(r.map((x) => x[k]!)));
        rowsN.push(avg);
        const own = avg[6] === 1 ? 'its own' : avg[6] === 0 ? 'common' : 'mixed';
        const sepFlag = n < 59 ? '†' : '';
        curve.push(
          `| ${n} | ${d} | ${f3(avg[0]!)} | ${f3(avg[1]!)} | ${f3(avg[2]!)} | ${pc(avg[3]!)} | ${pc(avg[4]!)} | ${pc(avg[5]!)}${sepFlag} | ${own} |`,
        );
      }
      const m = (k: number) => mean(rowsN.map((r) => r[k]!));
      const dev5 = (k: number) => mean(rowsN.map((r) => Math.abs(r[k]! - CURVE_FPR)));
      curveMeans.push(
        `| ${n} | ${doms.length} | ${f3(m(0))} | ${f3(m(1))} | ${f3(m(2))} | ${pc(dev5(3))} | ${pc(dev5(4))} | ${pc(dev5(5))} |`,
      );
    }
  }

  // ---- Cross-domain: calibrated on the other datasets, evaluated on one ----
  const cross: string[] = [
    '| held-out dataset | AUROC, signals | AUROC, default | TPR@1% FPR, signals | default | FPR at the 1% threshold, signals | default |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const crossMeans: number[][] = [];
  if (!skip.has('cross')) {
    for (const d of datasets) {
      const calOther = main200.filter((i) => i.split === 'cal' && i.dataset !== d);
      const evD = main200.filter((i) => i.split === 'eval' && i.dataset === d);
      const s1 = pooledOn(calOther, ctx, ['signals']).file;
      const s2 = pooledOn(calOther, ctx, groups).file;
      const cells = [...new Set(evD.map((i) => i.generator))].map((gen) => {
        const e = evD.filter((i) => i.generator === gen);
        const h = e.filter((i) => i.label === 0).map(row);
        const m = e.filter((i) => i.label === 1).map(row);
        return [
          au(h, m, (r) => detectorScore(s1.detector, r)),
          au(h, m, (r) => detectorScore(s2.detector, r)),
          tpr1(h, m, (r) => detectorScore(s1.detector, r)),
          tpr1(h, m, (r) => detectorScore(s2.detector, r)),
        ];
      });
      const hAll = uniqueRows(
        evD.filter((i) => i.label === 0),
        row,
      );
      const c = cells[0]!.map((_, k) => mean(cells.map((x) => x[k]!)));
      const f = [flagRate(s1.detector, hAll), flagRate(s2.detector, hAll)];
      crossMeans.push([...c, ...f]);
      cross.push(`| ${d} | ${f3(c[0]!)} | ${f3(c[1]!)} | ${pc(c[2]!)} | ${pc(c[3]!)} | ${pc(f[0]!)} | ${pc(f[1]!)} |`);
      log(`  cross-domain ${d} done`);
    }
    const cm = (k: number) => mean(crossMeans.map((r) => r[k]!));
    cross.push(
      `| **mean** | **${f3(cm(0))}** | **${f3(cm(1))}** | **${pc(cm(2))}** | **${pc(cm(3))}** | **${pc(cm(4))}** | **${pc(cm(5))}** |`,
    );
  }

  // ---- Held-out human text: FPR per source at thresholds fitted on detect-dev ----
  const heldRows = [...held.values()];
  const bySource = new Map<string, ScoreRow[]>();
  for (const r of heldRows) {
    const s = heldSource.get(r.id) ?? '?';
    bySource.set(s, [...(bySource.get(s) ?? []), r]);
  }
  const fprLines = [
    `| source | docs | Fast-DetectGPT (zero-shot, threshold from detect-dev humans) | logistic, signals | logistic, default |`,
    `| --- | ---: | ---: | ---: | ---: |`,
  ];
  for (const [s, rows] of [...bySource].sort((a, b) => b[1].length - a[1].length)) {
    fprLines.push(
      `| ${s} | ${rows.length} | ${pc(flagRate(fdZero, rows))} | ${pc(flagRate(sig.detector, rows))} | ${pc(flagRate(det.detector, rows))} |`,
    );
  }
  fprLines.push(
    `| **all** | ${heldRows.length} | **${pc(flagRate(fdZero, heldRows))}** | **${pc(flagRate(sig.detector, heldRows))}** | **${pc(flagRate(det.detector, heldRows))}** |`,
  );

  const dc = det.calibration;
  const md = `# Detection benchmark

Generated by \`node --import tsx bench/detect-eval.ts --model ${model}${observer ? ` --observer-model ${observer}` : ''} --pairs ${pairs} --repeats ${values.repeats}${values.skip ? ` --skip ${values.skip}` : ''}${values.variants ? ` --variants ${values.variants}` : ''}\`
on ${machine} (tailguard's engine and detectors; reference LM **${tag}**). Data: \`../shared/eval/detect-dev\` (Fast-DetectGPT
study), split by a hash of the human text: ${ctx.cal.length} calibration rows and ${ctx.ev.length} evaluation rows in the
first ${pairs} pairs of each file (the main tables), none in both; the learning curves and the cross-domain table use every pair.

- Zero-shot columns: each signal alone, oriented as in \`src/detect/features.ts\` (AUROC on the evaluation rows).
- Calibrated detectors: \`calibrate\` on the calibration rows of all files pooled (each human text once), L2 penalty chosen by
  cross-validation, threshold at ${pc(fpr)} FPR on nested out-of-fold human scores; AUROC and rates on the evaluation rows.
  "signals" is the detector tailguard shipped before (11 scalar signals); "default" adds the per-token distribution signals
  and the document embedding (${dc.features?.count} features). TPR at 1% FPR: at the evaluation humans' own 1% threshold.
- Published numbers come from 2.7B–20B-parameter scoring models (the study's own result files, via the detect-dev README).
${
  hasBinoculars
    ? `- Binoculars: \`mean_nll\` over the cross-entropy of the observer's next-token distribution under the scoring model's
  (\`--observer-model ${observer}\`, scored in the same graph); zero-shot column oriented as lower = machine; "default+binoculars"
  adds it to the default features.
`
    : ''
}
## AUROC per generator and domain (evaluation rows)

${lines.join('\n')}

## Feature groups (mean over the ${files.length} cells above)

${ablation.join('\n')}

${
  skip.has('curves')
    ? ''
    : `## Learning curves per domain: pooled vs partially pooled vs separate

Calibration rows drawn at random from each domain's calibration side (n human and n machine texts per domain; domains with
fewer are left out at that size), draws: ${drawsAt.join(', ')}, averaged; measured on each domain's whole evaluation side.
Target FPR ${pc(CURVE_FPR)} (a domain needs 59 humans to certify it). *pooled*: one detector for all domains; *partial*:
\`calibrate --domain-field\` (partial pooling; a domain's own threshold where its humans certify the target, else the common
one); *separate*: one detector per domain on its own rows (†: fewer than 59 humans, so its threshold is not certified).

${curveMeans.join('\n')}

${curve.join('\n')}

`
}${
    skip.has('cross')
      ? ''
      : `## Cross-domain: calibrated on the other datasets, evaluated on one

Pooled detectors calibrated on the calibration rows of the other three datasets (first ${pairs} pairs), evaluated on the held-out
dataset's evaluation rows (AUROC and TPR: mean over its generators; FPR: its humans at the 1% threshold fitted elsewhere).

${cross.join('\n')}

`
  }${
    skip.has('heldout')
      ? ''
      : `## False-positive rate on human held-out text (\`heldout.jsonl\`, never used for fitting)

Thresholds fitted on detect-dev's calibration rows at a ${pc(fpr)} FPR target.

${fprLines.join('\n')}
`
  }`;
  const previous = existsSync(values.out!) ? readFileSync(values.out!, 'utf8') : '';
  const notes = previous.includes(NOTES_MARKER) ? previous.slice(previous.indexOf(NOTES_MARKER)) : `${NOTES_MARKER}\n`;
  writeFileSync(values.out!, `${md}\n${notes}`);
  console.log(md);
}

runIfMain(import.meta.url, main);
