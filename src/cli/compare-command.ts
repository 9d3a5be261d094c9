/** `tailguard compare`: the CLI face of compareGenerations. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { compareGenerations, VERDICT_METRICS, type Ledger, type VerdictMetric } from '../diversity/compare.js';
import { frameOptions, frameRequest, type FrameFlags } from './frame-options.js';
import { EXIT_CHECK_FAILED, numberBetween, positiveInt } from './option-parsers.js';

interface CompareFlags extends FrameFlags {
  out: string;
  k: number;
  detector?: string;
  z: number;
  verdictMetrics: VerdictMetric[];
  failOnCollapse?: boolean;
  json?: boolean;
  quiet?: boolean;
}

function metricList(v: string): VerdictMetric[] {
  const names = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !(VERDICT_METRICS as readonly string[]).includes(n));
  if (names.length === 0 || bad.length)
    throw new InvalidArgumentError(
      `--verdict-metrics takes a comma-separated list of ${VERDICT_METRICS.join(', ')}${bad.length ? `; unknown: ${bad.join(', ')}` : ''}`,
    );
  return names as VerdictMetric[];
}

/** The table on stderr: one line per generation, verdict last. */
export function ledgerTable(ledger: Ledger): string[] {
  const lines = ['gen  docs   ppl     distinct-2  at budget (±se)   self-BLEU  Vendi   coverage  flagged  verdict'];
  for (const g of ledger.generations) {
    const eq = g.distinct_at_budget[2];
    lines.push(
      `${String(g.generation).padEnd(4)} ${String(g.documents).padEnd(6)} ${g.perplexity.toFixed(1).padEnd(7)} ${g.diversity.distinct[2].toFixed(3).padEnd(11)} ` +
        `${`${eq.value.toFixed(3)} ± ${eq.se.toFixed(4)}`.padEnd(17)} ${g.diversity.self_bleu.toFixed(3).padEnd(10)} ${g.diversity.vendi.toFixed(1).padEnd(7)} ` +
        `${(g.coverage_of_gen0?.coverage.value.toFixed(3) ?? '(anchor)').padEnd(9)} ${(g.flagged_synthetic ? `${(100 * g.flagged_synthetic.share).toFixed(1)}%` : '—').padEnd(8)} ` +
        `${g.verdict ? g.verdict.verdict : 'anchor'}`,
    );
  }
  const frame = ledger.frame;
  lines.push(
    frame && frame.method !== 'none'
      ? `Vendi, cosine distance and coverage in GEN0's frame (${frame.method}, ${frame.reused ? 'reused from' : 'saved as'} ${frame.file})`
      : 'Vendi, cosine distance and coverage on the embeddings as loaded (--no-whiten)',
  );
  lines.push(
    `verdicts on ${ledger.verdict_rule.decisive.join(', ')} (distinct-n on ${ledger.verdict_rule.budget[2]} bigrams per generation), z = ${ledger.verdict_rule.z}`,
  );
  return lines;
}

export function compareCommand(setExitCode: (code: number) => void): Command {
  return new Command('compare')
    .description(
      'Track diversity across model generations. GEN0 is the human anchor; every GEN is a `tailguard score`\n' +
        'output directory (texts are read from the corpus it scored). Per generation: distinct-1..4, distinct-1..3 at\n' +
        'equal size (the same number of n-grams in every generation, ± noise from repeated half-sampling),\n' +
        'compression ratio, self-BLEU (sample), Vendi score (sample, 95% CI), mean pairwise cosine distance, coverage\n' +
        'against GEN0 (precision, recall, density, coverage), the share flagged as machine-written, and perplexity.\n' +
        'Writes OUT/ledger.json and OUT/report.html.\n\n' +
        "Embeddings are measured in GEN0's frame (Vendi, cosine distance, coverage): centred on GEN0's mean and\n" +
        'whitened by its covariance (shrunk), fitted on GEN0 and saved as OUT/anchor-frame.json; --anchor-frame\n' +
        'reuses a saved one, so a generation measured later is measured in the same frame; --no-whiten measures the\n' +
        'embeddings as loaded.\n\n' +
        'Verdict per generation: stable (no loss since GEN0 beyond the noise), bounded decline (a loss within\n' +
        '(π²/6) × the GEN0 → GEN1 loss, what training on accumulated data allows) or compounding loss (beyond that\n' +
        'bound by more than the noise: collapse). Decided by distinct-2 at equal size unless --verdict-metrics.\n\n' +
        'Exit status: 0 done (compounding loss is a warning on stderr); 3 with --fail-on-collapse when a generation\n' +
        'shows compounding loss.',
    )
    .argument('<gens...>', 'score output directories, GEN0 (human anchor) first')
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('--k <k>', 'neighbours for the coverage radii', positiveInt('--k'), 5)
    .option(
      '--detector <file>',
      "detector.json for the flagged share (default: the model's zero-shot Fast-DetectGPT at 1% FPR)",
    )
    .option('--z <z>', 'one-sided z for the verdicts', numberBetween('--z', 0, 10), 1.96)
    .addOption(
      new Option(
        '--verdict-metrics <list>',
        `comma-separated metrics that decide the verdict, of ${VERDICT_METRICS.join(', ')}`,
      )
        .argParser(metricList)
        .default(['distinct-2'], 'distinct-2'),
    )
    .option('--fail-on-collapse', 'exit 3 when a generation shows compounding loss')
    .option('--json', 'print ledger.json to stdout')
    .option('-q, --quiet', 'no table on stderr')
    .addOption(frameOptions('GEN0')[0])
    .addOption(frameOptions('GEN0')[1])
    .addOption(frameOptions('GEN0')[2])
    .action(async (gens: string[], flags: CompareFlags) => {
      const ledger = await compareGenerations(gens, flags.out, {
        k: flags.k,
        detector: flags.detector,
        z: flags.z,
        verdictMetrics: flags.verdictMetrics,
        ...frameRequest(flags),
      });
      if (flags.json) process.stdout.write(`${JSON.stringify(ledger, null, 2)}\n`);
      if (!flags.quiet)
        process.stderr.write(
          ledgerTable(ledger)
            .map((l) => `tailguard: ${l}`)
            .join('\n') + '\n',
        );
      for (const f of ledger.flags)
        process.stderr.write(
          `tailguard: WARNING: compounding loss at generation ${f.generation}: ${f.reasons.join('; ')}\n`,
        );
      setExitCode(flags.failOnCollapse && ledger.flags.length > 0 ? EXIT_CHECK_FAILED : 0);
    });
}
