/** `tailguard tails export`: the CLI face of tailsExport. */
import { Command, Option } from 'commander';
import { tailsExport } from '../tails/tails-export.js';
import { positiveInt } from './option-parsers.js';

interface TailsExportFlags {
  coverage: string;
  out: string;
  budget?: number;
  format: 'jsonl' | 'parquet';
  json?: boolean;
  quiet?: boolean;
}

export function tailsCommand(setExitCode: (code: number) => void): Command {
  const exportCmd = new Command('export')
    .description(
      "The anchor's documents from the regions where a candidate is thin or absent (the tails of a `tailguard\n" +
        'coverage` run), ready to add to the next training mix. Writes OUT (JSONL; with --format parquet also\n' +
        'OUT with .parquet), one row per document in reference order: id, text, region, region_label (its most\n' +
        'distinctive words), weight, reference_row.\n\n' +
        "Weight: with r and q a tail region's share of the reference and of the candidate, R and Q their sums over\n" +
        "the tails and N the candidate's documents, the region needs m = N·(r·(1−Q)/(1−R) − q) more documents for the\n" +
        "mix to hold the anchor's share r of it; each exported document of the region weighs m / (documents exported\n" +
        'from it). --budget N exports at most N documents, shared among the tail regions in proportion to m (evenly\n' +
        'spaced within each region): the same m over fewer documents, so larger weights.\n\n' +
        "Texts are read from the reference's corpus (its score run's run.json, or X.jsonl beside an .npy). A document\n" +
        'whose text is not found is still written, last, with text null. Exit status: 0 written; 1 written, but some texts\n' +
        'were not found; 2 the coverage directory or the corpus cannot be read.',
    )
    .requiredOption('--coverage <dir>', 'a `tailguard coverage` output directory (report.json, reference.jsonl)')
    .requiredOption('-o, --out <file>', 'the .jsonl file to write')
    .option('--budget <n>', 'at most this many documents', positiveInt('--budget'))
    .addOption(
      new Option('--format <format>', 'parquet: also write the rows as .parquet beside OUT')
        .choices(['jsonl', 'parquet'])
        .default('jsonl'),
    )
    .option('--json', 'print the summary (per tail region: shares, mass, documents, weight) to stdout')
    .option('-q, --quiet', 'no summary on stderr')
    .exitOverride()
    .action(async (flags: TailsExportFlags) => {
      const s = await tailsExport({
        coverage: flags.coverage,
        out: flags.out,
        budget: flags.budget,
        format: flags.format,
      });
      if (flags.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      // Said even with --quiet: rows without text must not go into a training mix unnoticed.
      if (s.texts_missing)
        process.stderr.write(
          `tailguard: WARNING: ${s.texts_missing} of ${s.exported} documents have no text (not found in ${s.reference}'s corpus): their rows have text null\n`,
        );
      if (!flags.quiet) {
        process.stderr.write(
          `tailguard: ${s.exported} documents from ${s.regions.length} tail regions → ${s.out}${s.parquet ? ` and ${s.parquet}` : ''}\n`,
        );
        for (const r of s.regions)
          process.stderr.write(
            `tailguard:   #${r.region} ${r.label ? `(${r.label}) ` : ''}${r.status}: ${(100 * r.reference_share).toFixed(1)}% of the reference, ${(100 * r.candidate_share).toFixed(1)}% of the candidate; ${r.exported} of ${r.reference_documents} documents, weight ${r.weight.toFixed(3)}\n`,
          );
      }
      setExitCode(s.texts_missing ? 1 : 0);
    });
  return new Command('tails')
    .description("The anchor's tails: `tails export` writes the documents of a coverage run's thin or absent regions.")
    .addCommand(exportCmd);
}
