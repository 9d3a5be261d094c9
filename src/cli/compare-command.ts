/** `tailguard compare`: the CLI face of compareGenerations. */
import { Command } from 'commander';
import { compareGenerations } from '../diversity/compare.js';
import { EXIT_CHECK_FAILED, positiveInt } from './option-parsers.js';

interface CompareFlags {
  out: string;
  k: number;
  detector?: string;
  failOnCollapse?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function compareCommand(setExitCode: (code: number) => void): Command {
  return new Command('compare')
    .description(
      'Track diversity across model generations. GEN0 is the human anchor; every GEN is a `tailguard score`\n' +
        'output directory (texts are read from the corpus it scored). Per generation: distinct-1..4, compression\n' +
        'ratio, self-BLEU (sample), Vendi score (sample, 95% CI), mean pairwise cosine distance, coverage against\n' +
        'GEN0 (precision, recall, density, coverage), the share flagged as machine-written, and perplexity.\n' +
        'Writes OUT/ledger.json. Flags early collapse: distinct-2 (−2%), Vendi (−5%) or coverage (−0.02) falling\n' +
        'from one generation to the next while perplexity holds or improves.\n\n' +
        'Exit status: 0 done (flags are warnings on stderr); 3 with --fail-on-collapse when a generation is flagged.',
    )
    .argument('<gens...>', 'score output directories, GEN0 (human anchor) first')
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('--k <k>', 'neighbours for the coverage radii', positiveInt('--k'), 5)
    .option('--detector <file>', 'detector.json for the flagged share (default: the model\'s zero-shot Fast-DetectGPT at 1% FPR)')
    .option('--fail-on-collapse', 'exit 3 when early collapse is flagged')
    .option('--json', 'print ledger.json to stdout')
    .option('-q, --quiet', 'no table on stderr')
    .action(async (gens: string[], flags: CompareFlags) => {
      const ledger = await compareGenerations(gens, flags.out, { k: flags.k, detector: flags.detector });
      if (flags.json) process.stdout.write(`${JSON.stringify(ledger, null, 2)}\n`);
      if (!flags.quiet) {
        const lines = ['gen  docs   ppl     distinct-2  self-BLEU  Vendi        coverage  flagged'];
        for (const g of ledger.generations) {
          lines.push(
            `${String(g.generation).padEnd(4)} ${String(g.documents).padEnd(6)} ${g.perplexity.toFixed(1).padEnd(7)} ${g.diversity.distinct[2].toFixed(3).padEnd(11)} ` +
              `${g.diversity.self_bleu.toFixed(3).padEnd(10)} ${g.diversity.vendi.toFixed(1).padEnd(12)} ${(g.coverage_of_gen0?.coverage.value.toFixed(3) ?? '(anchor)').padEnd(9)} ` +
              `${g.flagged_synthetic ? `${(100 * g.flagged_synthetic.share).toFixed(1)}%` : '—'}`,
          );
        }
        process.stderr.write(lines.map((l) => `tailguard: ${l}`).join('\n') + '\n');
      }
      for (const f of ledger.flags) process.stderr.write(`tailguard: WARNING: early collapse at generation ${f.generation}: ${f.reasons.join('; ')}\n`);
      setExitCode(flags.failOnCollapse && ledger.flags.length > 0 ? EXIT_CHECK_FAILED : 0);
    });
}
