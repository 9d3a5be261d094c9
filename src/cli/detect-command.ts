/** `tailguard detect` and `tailguard calibrate`: the CLI faces of detectCorpus and calibrateFromInputs. */
import { Command, InvalidArgumentError } from 'commander';
import { calibrateFromInputs, oofPath } from '../detect/calibrate.js';
import { detectCorpus, type RateWithInterval } from '../detect/detect-corpus.js';
import type { OperatingStats } from '../detect/detector.js';
import { DEFAULT_MIN_PER_CLASS } from '../detect/domains.js';
import { DEFAULT_FEATURE_GROUPS, FEATURE_GROUPS, type FeatureGroup } from '../detect/features.js';
import { DEFAULT_HUMAN_VALUES, DEFAULT_SYNTHETIC_VALUES } from '../detect/provenance.js';
import { EXIT_CHECK_FAILED, integerAtLeast, numberAtLeast, numberBetween, positiveInt } from './option-parsers.js';
import { addScoringOptions, scoringProgress, scoringSettings, type ScoringFlags } from './scoring-options.js';

const list = (v: string): string[] =>
  v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function featureGroups(v: string): FeatureGroup[] {
  const groups = list(v);
  const bad = groups.filter((g) => !(FEATURE_GROUPS as readonly string[]).includes(g));
  if (bad.length > 0 || groups.length === 0)
    throw new InvalidArgumentError(`--features takes ${FEATURE_GROUPS.join(', ')} (comma-separated); got ${v}`);
  return groups as FeatureGroup[];
}

interface DetectFlags extends ScoringFlags {
  out: string;
  detector?: string;
  fpr: number;
  domainField?: string;
  provenanceField?: string;
  humanValues: string[];
  syntheticValues: string[];
  sourceField?: string;
  humanSources: string[];
  syntheticSources: string[];
  maxSyntheticRatio?: number;
  spans?: number | boolean;
  json?: boolean;
  quiet?: boolean;
}

const pct = (x: number | null | undefined) =>
  x === null || x === undefined || Number.isNaN(x) ? '—' : `${(100 * x).toFixed(1)}%`;
const num = (x: number | null | undefined) =>
  x === null || x === undefined || Number.isNaN(x) ? '—' : x === Infinity ? '∞' : x.toFixed(3);

export function detectCommand(setExitCode: (code: number) => void): Command {
  return addScoringOptions(new Command('detect'))
    .description(
      "Flag machine-written documents, label every document's provenance, and estimate the synthetic-to-real ratio.\n\n" +
        'INPUT is a corpus (scored into OUT/scores, resumable) or a `tailguard score` output directory (its scores\n' +
        'are reused). Writes OUT/detections.jsonl (id, line, p_synthetic, score, verdict, provenance, detector; one\n' +
        'row per scored document) and OUT/summary.json. Provenance: human-verified / synthetic-known from the\n' +
        "input's own fields (--provenance-field, --source-field with allow/deny lists), else synthetic-suspected /\n" +
        'human-unverified from the detector. Without --detector: zero-shot Fast-DetectGPT with its threshold at\n' +
        "--fpr on the model's human reference (its TPR is unknown, so the ratio is not corrected).\n" +
        "A detector calibrated per domain routes each row by its domain field to that domain's detector; unseen or\n" +
        "thin domains use the pooled one. Per domain, the signals are compared with the calibration set's\n" +
        '(standardised mean shift, population stability index): a domain never calibrated on, or drifting from it,\n' +
        'gets a WARNING on stderr (even with --quiet) and in summary.json.\n\n' +
        'Exit status: 0 done; 1 some rows could not be scored (see OUT/scores/errors.jsonl); 2 could not run;\n' +
        '3 the estimated synthetic-to-real ratio exceeds --max-synthetic-ratio.',
    )
    .argument(
      '<input>',
      'corpus (JSONL, Parquet, directory of .txt; many JSONL/Parquet files as a directory, quoted glob or @list.txt) or a score output directory',
    )
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('--detector <file>', 'detector.json from `tailguard calibrate` (default: zero-shot Fast-DetectGPT)')
    .option(
      '--fpr <rate>',
      'false-positive rate of the zero-shot default on human text',
      numberBetween('--fpr', 0, 1),
      0.01,
    )
    .option(
      '--domain-field <name>',
      "field naming each row's domain: routes rows to their domain's detector and checks drift per domain (default: the detector's)",
    )
    .option('--provenance-field <name>', "field declaring each row's origin")
    .option(
      '--human-values <list>',
      'values of --provenance-field meaning human (comma-separated)',
      list,
      DEFAULT_HUMAN_VALUES,
    )
    .option(
      '--synthetic-values <list>',
      'values of --provenance-field meaning machine-written',
      list,
      DEFAULT_SYNTHETIC_VALUES,
    )
    .option('--source-field <name>', "field naming each row's source, checked against the lists below")
    .option('--human-sources <list>', 'sources known to be human-written (allow list)', list, [])
    .option('--synthetic-sources <list>', 'sources known to be machine-written (deny list)', list, [])
    .option(
      '--max-synthetic-ratio <r>',
      'fail (exit 3) when the estimated synthetic-to-real ratio exceeds r',
      numberAtLeast('--max-synthetic-ratio', 0),
    )
    .option(
      '--spans [tokens]',
      'when scoring INPUT, add per-document spans (windows of this many tokens, default 64) to OUT/scores/scores.jsonl',
      positiveInt('--spans'),
    )
    .option('--json', 'print summary.json to stdout')
    .option('-q, --quiet', 'no report on stderr')
    .action(async (input: string, flags: DetectFlags) => {
      const { sink, ...progress } = scoringProgress(input, !!flags.quiet);
      const summary = await detectCorpus({
        input,
        out: flags.out,
        detector: flags.detector,
        zeroShotFpr: flags.fpr,
        domainField: flags.domainField,
        scoring: {
          ...scoringSettings(flags),
          ...progress,
          ...(flags.spans === undefined ? {} : { spans: typeof flags.spans === 'number' ? flags.spans : 64 }),
        },
        provenance: {
          provenanceField: flags.provenanceField,
          humanValues: flags.humanValues,
          syntheticValues: flags.syntheticValues,
          sourceField: flags.sourceField,
          humanSources: flags.humanSources,
          syntheticSources: flags.syntheticSources,
        },
      }).finally(() => sink.stop());
      if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      const s = summary.synthetic;
      if (!flags.quiet) {
        const c = summary.counts;
        process.stderr.write(
          `tailguard: detector: ${summary.detector.source}${summary.detector.zero_shot ? ' [zero-shot default]' : ''}, threshold ${num(summary.detector.threshold)}\n` +
            `tailguard: ${c.scored} documents: ${c['human-verified']} human-verified, ${c['human-unverified']} human-unverified, ` +
            `${c['synthetic-known']} synthetic-known, ${c['synthetic-suspected']} synthetic-suspected; ${c.errors} could not be scored\n` +
            `tailguard: synthetic share ${pct(s.share)}${s.share_ci ? ` (${Math.round(s.confidence * 100)}% CI ${pct(s.share_ci[0])}–${pct(s.share_ci[1])})` : ''}, ` +
            `synthetic-to-real ratio ${num(s.ratio)}${s.ratio_ci ? ` (${num(s.ratio_ci[0])}–${num(s.ratio_ci[1])})` : ''}\n` +
            `tailguard: ${s.note}\n`,
        );
      }
      const ev = summary.evaluation;
      if (ev && !flags.quiet) {
        const r = (x: RateWithInterval | null) =>
          x ? `${pct(x.value)} (95% CI ${pct(x.ci.lo)}–${pct(x.ci.hi)}, ${x.k}/${x.n})` : '—';
        process.stderr.write(
          `tailguard: on the ${ev.n_human + ev.n_synthetic} rows of declared provenance: FPR ${r(ev.fpr)}, TPR ${r(ev.tpr)}` +
            `${ev.auroc ? `, AUROC ${ev.auroc.value.toFixed(3)} (${ev.auroc.ci.lo.toFixed(3)}–${ev.auroc.ci.hi.toFixed(3)})` : ''}\n`,
        );
      }
      // Warnings are printed even with --quiet: a detector applied outside its calibration must not pass silently.
      for (const w of summary.warnings) process.stderr.write(`tailguard: WARNING: ${w}\n`);
      let code = summary.counts.errors > 0 ? 1 : 0;
      if (flags.maxSyntheticRatio !== undefined && s.ratio !== null && s.ratio > flags.maxSyntheticRatio) {
        process.stderr.write(
          `tailguard: synthetic-to-real ratio ${num(s.ratio)} exceeds --max-synthetic-ratio ${flags.maxSyntheticRatio}` +
            `${s.corrected ? '' : ' (uncorrected flag rate of a zero-shot detector)'}; see ${flags.out}/detections.jsonl\n`,
        );
        code = EXIT_CHECK_FAILED;
      }
      setExitCode(code);
    });
}

interface CalibrateFlags extends ScoringFlags {
  human: string;
  synthetic: string;
  out: string;
  fpr: number;
  domainField?: string;
  minPerClass: number;
  folds: number;
  innerFolds: number;
  l2?: number;
  features: FeatureGroup[];
  seed: number;
  reviewed?: string;
  reviewedScores?: string;
  json?: boolean;
  quiet?: boolean;
}

function statsRow(name: string, s: OperatingStats): string {
  return `  ${name.padEnd(14)} ${s.auroc.toFixed(3)} (${s.auroc_ci.lo.toFixed(3)}–${s.auroc_ci.hi.toFixed(3)})  ${pct(s.tpr_at_1pct_fpr).padStart(6)}  ${pct(s.tpr_at_5pct_fpr).padStart(6)}  ${pct(s.threshold_fpr).padStart(6)}  ${pct(s.threshold_tpr).padStart(6)}`;
}

export function calibrateCommand(): Command {
  return addScoringOptions(new Command('calibrate'))
    .description(
      'Fit a detector of machine-written text on labelled examples and set its threshold at a target false-positive rate.\n\n' +
        'H and S are corpora with a text field (scored into OUT.scores/, resumable) or `tailguard score` output\n' +
        'directories. Fits an L2 logistic regression on the standardised features of --features (default: the\n' +
        'scalar signals, the per-token distribution signals and the document embedding), its penalty chosen by\n' +
        'cross-validation; the threshold and every reported rate come from nested out-of-fold scores (the penalty\n' +
        'chosen again inside each outer fold), written to OUT with .oof.jsonl for .json. Reports beside it the\n' +
        'zero-shot signals, the fitted 2-of-3 ensemble rule and the logistic model on the scalar signals alone.\n' +
        'Refuses a target FPR that too few human examples cannot certify (n ≥ ln(0.05)/ln(1 − fpr), about 3/fpr).\n' +
        'With --domain-field: every domain with --min-per-class examples of each class gets its own ranking by\n' +
        'partial pooling (shared weights plus per-domain deviations of the intercept and scalar signals, shrunk\n' +
        'toward the shared model by a cross-validated penalty); its threshold is its own where its humans certify\n' +
        "the FPR, else the common one, with that domain's estimated FPR and its Clopper–Pearson interval and a\n" +
        'WARNING. Thinner domains use the pooled detector (the report says why). Prints the report to stdout.\n\n' +
        'With --reviewed LOG (a `tailguard review import` log), the latest human/machine verdict of each document\n' +
        'overrides the set its rows came from (joined by id; unsure verdicts are ignored); stderr and the\n' +
        "detector file's `reviewed` say how many rows moved and how many reviewed documents calibration lacks.\n" +
        'With --reviewed-scores D (a score directory or corpus, e.g. the one the review queue came from), reviewed\n' +
        'documents of D that are in neither set are added with their reviewed label.',
    )
    .requiredOption('--human <path>', 'human-written examples')
    .requiredOption('--synthetic <path>', 'machine-written examples')
    .requiredOption('-o, --out <file>', 'detector file to write (detector.json)')
    .option('--fpr <rate>', 'target false-positive rate', numberBetween('--fpr', 0, 1), 0.01)
    .option(
      '--domain-field <name>',
      "field naming each example's domain: one detector per domain with enough examples, the pooled one for the rest",
    )
    .option(
      '--min-per-class <n>',
      'human and machine examples a domain needs, each, for a ranking of its own',
      positiveInt('--min-per-class'),
      DEFAULT_MIN_PER_CLASS,
    )
    .option(
      '--features <groups>',
      `feature groups of the logistic detector, comma-separated: ${FEATURE_GROUPS.join(', ')}`,
      featureGroups,
      [...DEFAULT_FEATURE_GROUPS],
    )
    .option('--folds <k>', 'outer cross-validation folds (the stated rates)', integerAtLeast('--folds', 2), 5)
    .option(
      '--inner-folds <k>',
      "folds of the penalty's choice inside each outer fold",
      integerAtLeast('--inner-folds', 2),
      4,
    )
    .option(
      '--l2 <lambda>',
      'a fixed L2 penalty on the standardised weights (default: chosen by cross-validation)',
      numberAtLeast('--l2', 0),
    )
    .option('--seed <n>', 'seed of the folds and bootstrap', integerAtLeast('--seed', 0), 1)
    .option('--reviewed <log>', "review log of `tailguard review import`: verified labels override the sets' labels")
    .option(
      '--reviewed-scores <path>',
      'with --reviewed: score directory or corpus whose reviewed documents, in neither set, are added',
    )
    .option('--json', 'print detector.json to stdout instead of the report')
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (flags: CalibrateFlags) => {
      const { sink, ...progress } = scoringProgress(`${flags.human} / ${flags.synthetic}`, !!flags.quiet);
      const det = await calibrateFromInputs({
        human: flags.human,
        synthetic: flags.synthetic,
        out: flags.out,
        fpr: flags.fpr,
        domainField: flags.domainField,
        minPerClass: flags.minPerClass,
        folds: flags.folds,
        innerFolds: flags.innerFolds,
        l2: flags.l2,
        features: flags.features,
        seed: flags.seed,
        reviewed: flags.reviewed,
        reviewedScores: flags.reviewedScores,
        scoring: { ...scoringSettings(flags), ...progress },
      }).finally(() => sink.stop());
      const rv = det.reviewed;
      // Said even with --json or --quiet: labels that are not the sets' own must not pass silently.
      if (rv)
        process.stderr.write(
          `tailguard: reviewed labels from ${rv.log}: ${rv.labelled_documents} documents with a human/machine verdict ` +
            `(${rv.unsure_ignored} unsure entries ignored); ${rv.found} in calibration: ${rv.human_to_machine} rows moved human → machine, ` +
            `${rv.machine_to_human} machine → human, ${rv.confirmed} confirmed` +
            (flags.reviewedScores ? `, ${rv.added} added from ${flags.reviewedScores}` : '') +
            `; ${rv.not_found} found nowhere (not used)\n`,
        );
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(det, null, 2)}\n`);
        return;
      }
      const c = det.calibration;
      const ci = (i: { lo: number; hi: number } | undefined) => (i ? ` (${pct(i.lo)}–${pct(i.hi)})` : '');
      const lines = [
        `detector ${flags.out}: logistic regression on ${c.n_human} human and ${c.n_synthetic} synthetic documents, signals of ${det.model}`,
        `features: ${c.features ? `${c.features.groups.join(', ')} (${c.features.count})` : 'signals'}; L2 penalty ${c.penalty ? `${c.penalty.l2} (cross-validated; per outer fold ${c.penalty.fold_l2.join(', ') || 'fixed'})` : '—'}`,
        `threshold at target FPR ${pct(det.target_fpr)} (out-of-fold): FPR ${pct(c.stats.threshold_fpr)}${ci(c.stats.threshold_fpr_ci)}, TPR ${pct(c.stats.threshold_tpr)}${ci(c.stats.threshold_tpr_ci)}`,
        `out-of-fold scores: ${oofPath(flags.out)}`,
        '',
        '  detector       AUROC (95% CI)         TPR@1%  TPR@5%  FPR@thr TPR@thr',
        ...Object.entries(c.candidates).map(([k, s]) => statsRow(k, s)),
      ];
      if (c.per_domain) {
        lines.push(
          '',
          'the pooled detector per domain (out-of-fold, at its threshold):',
          '  domain                   humans  FPR      synthetic  TPR',
        );
        for (const [d, v] of Object.entries(c.per_domain)) {
          lines.push(
            `  ${d.padEnd(24)} ${String(v.n_human).padStart(6)}  ${pct(v.fpr).padStart(6)}   ${String(v.n_synthetic).padStart(9)}  ${pct(v.tpr).padStart(6)}`,
          );
        }
      }
      if (det.domains) {
        const pool = det.domains.pooling;
        lines.push(
          '',
          `rankings of their own (domain field ${det.domains.field}, at least ${det.domains.min_per_class} examples of each class)` +
            (pool
              ? `: partial pooling, deviation penalty ${pool.l2_dev ?? '∞ (none: the pooled ranking won the cross-validation)'}, common threshold ${num(pool.common_threshold)}`
              : '') +
            ':',
        );
        lines.push(
          '  domain         n (h/m)    moved (weights / intercept)  AUROC (95% CI)         threshold  FPR at it (95% CI)       TPR at it',
        );
        for (const [d, dd] of Object.entries(det.domains.detectors)) {
          const s = dd.calibration.stats;
          const moved = dd.moved
            ? `${(100 * dd.moved.relative_weight_change).toFixed(0)}% / ${dd.moved.intercept_shift >= 0 ? '+' : ''}${dd.moved.intercept_shift.toFixed(2)}`
            : '—';
          const fpr = dd.fpr_estimate ? `${pct(dd.fpr_estimate.value)}${ci(dd.fpr_estimate.ci)}` : pct(s.threshold_fpr);
          lines.push(
            `  ${d.padEnd(14)} ${`${dd.calibration.n_human}/${dd.calibration.n_synthetic}`.padEnd(10)} ${moved.padEnd(28)} ${s.auroc.toFixed(3)} (${s.auroc_ci.lo.toFixed(3)}–${s.auroc_ci.hi.toFixed(3)})   ${(dd.threshold_source ?? 'domain').padEnd(9)}  ${fpr.padEnd(24)} ${pct(s.threshold_tpr)}`,
          );
        }
        for (const [d, why] of Object.entries(det.domains.pooled)) lines.push(`  ${d}: pooled detector (${why})`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
      // Warnings are printed even with --quiet: an uncertified threshold must not pass silently.
      for (const w of det.domains?.warnings ?? []) process.stderr.write(`tailguard: WARNING: ${w}\n`);
    });
}
