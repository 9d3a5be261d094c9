/** `tailguard anchor check`: the CLI face of checkAnchor. */
import { Command, Option } from 'commander';
import { checkAnchor } from '../anchor/check-anchor.js';
import type { AnchorDocRef, AnchorReport } from '../anchor/report.js';
import { flagTable, withFlags } from './flags.js';
import { EXIT_CHECK_FAILED, integerAtLeast, numberBetween } from './option-parsers.js';

interface AnchorCheckFlags {
  anchor: string;
  out?: string;
  textField?: string;
  idField?: string;
  anchorTextField?: string;
  anchorIdField?: string;
  minShare?: number;
  maxMissing?: number;
  detections?: string;
  detectionsOf?: 'anchor' | 'mix';
  ledger?: string;
  generation?: string;
  json?: boolean;
  quiet?: boolean;
}

const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(2)}%`);
const names = (refs: AnchorDocRef[], total: number) =>
  refs.map((r) => (r.id === null ? `line ${r.line}` : JSON.stringify(r.id))).join(', ') +
  (total > refs.length ? `, … (${total} in all)` : '');

/** The summary on stderr, one finding a line. */
export function anchorSummary(r: AnchorReport): string[] {
  const ids = r.id_matching
    ? `by id ${r.present.by_id}, by text ${r.present.by_text}`
    : `by text ${r.present.by_text}; ids not compared (${r.anchor.ids === 'none' ? 'the anchor' : 'the mix'} has none)`;
  const lines = [
    `anchor ${r.anchor.path}: ${r.anchor.documents} documents; mix ${r.mix.path}: ${r.mix.rows} rows`,
    `present ${r.present.by_either} of ${r.anchor.documents} (${ids}); missing ${r.missing.documents}` +
      (r.missing.documents ? `: ${names(r.missing.examples, r.missing.documents)}` : ''),
    `anchor share of the mix ${pct(r.share.value)} (${r.share.anchor_rows} of ${r.share.mix_rows} rows)`,
  ];
  if (r.altered.documents)
    lines.push(
      `altered (id kept, text changed) ${r.altered.documents}: ${names(r.altered.examples, r.altered.documents)}`,
    );
  if (r.duplicates.documents)
    lines.push(
      `in the mix more than once ${r.duplicates.documents} (${r.duplicates.extra_rows} extra rows): ${names(r.duplicates.examples, r.duplicates.documents)}`,
    );
  const c = r.contamination;
  if (c)
    lines.push(
      `flagged as machine-written (detections over the ${c.of}) ${c.flagged_documents}` +
        (c.flagged_documents
          ? `, ${c.flagged_in_mix} of them in the mix: ${names(c.examples, c.flagged_documents)}`
          : '') +
        (c.unscored_rows ? `; ${c.unscored_rows} rows of the ${c.of} have no detection` : ''),
    );
  if (r.ledger)
    lines.push(
      `ledger ${r.ledger.path}: share over generations ${r.ledger.generations.map((g) => `${g.generation} ${pct(g.share)}`).join(', ')}`,
    );
  if (r.outputs) lines.push(`wrote ${r.outputs.report}, ${r.outputs.anchor}, ${r.outputs.missing}`);
  return lines;
}

export function anchorCommand(setExitCode: (code: number) => void): Command {
  const check = new Command('check')
    .summary("is the human anchor still in this generation's mix? presence, share, contamination")
    .description(
      "Is the verified human anchor still in this generation's training mix (accumulate, don't replace)?\n\n" +
        'MIX and ANCHOR are corpora (JSONL, Parquet, directory of .txt) or `tailguard score` output directories (the\n' +
        'corpus they scored is read, with its fields). The anchor is held as 64-bit hashes of its ids and normalised\n' +
        '(NFKC, lower case, white space collapsed) texts; the mix is streamed once, so it may be larger than memory.\n' +
        'Reports anchor documents present in the mix by id, by text and by either, missing, altered (id kept, text\n' +
        'changed) and repeated; the anchor share of the mix (rows with an anchor text / all rows); with --detections\n' +
        '(detections.jsonl of `tailguard detect` over the anchor, or the mix with --detections-of mix) the anchor\n' +
        'documents flagged as machine-written. Writes OUT/report.json, OUT/anchor.jsonl (every anchor document and\n' +
        'its status), OUT/missing.jsonl and OUT/contaminated.jsonl. With --ledger, records the generation in an\n' +
        'anchor ledger and prints the share over generations. A row that cannot be read stops the check.\n\n' +
        'Exit status: 0 checked, and the gate (--min-share, --max-missing) passed; 2 could not check (bad options or input: the message names file and line);\n' +
        '3 the share is below --min-share or more than --max-missing anchor documents are missing.',
    )
    .argument('<mix>', 'the training mix: corpus, score output directory, or - for JSONL on stdin')
    .requiredOption('--anchor <path>', 'the human anchor: corpus or score output directory')
    .option('-o, --out <dir>', 'output directory (report.json, anchor.jsonl, missing.jsonl, contaminated.jsonl)')
    .option('--text-field <name>', 'field holding the text (default: text)')
    .option('--id-field <name>', 'field holding the document id (default: none; documents then match by text only)')
    .option('--anchor-text-field <name>', "the anchor's text field, when it differs from the mix's")
    .option('--anchor-id-field <name>', "the anchor's id field, when it differs from the mix's")
    .option(
      '--min-share <f>',
      "fail (exit 3) when the anchor's share of the mix's rows is below f (0–1)",
      numberBetween('--min-share', 0, 1, { closed: true }),
    )
    .option(
      '--max-missing <n>',
      'fail (exit 3) when more than n anchor documents are missing from the mix',
      integerAtLeast('--max-missing', 0),
    )
    .option(
      '--detections <file>',
      'detections.jsonl of `tailguard detect` over the anchor (or the mix: --detections-of)',
    )
    .addOption(
      new Option('--detections-of <side>', 'which corpus --detections were run over').choices(['anchor', 'mix']),
    )
    .option('--ledger <file>', "anchor ledger (JSON) to record this generation in; created if it doesn't exist")
    .option('--generation <name>', 'name of this generation in the ledger')
    .option('--json', 'print report.json to stdout')
    .option('-q, --quiet', 'no summary on stderr')
    .action(async (mix: string, flags: AnchorCheckFlags) => {
      const report = await checkAnchor({
        mix,
        anchor: flags.anchor,
        out: flags.out,
        textField: flags.textField,
        idField: flags.idField,
        anchorTextField: flags.anchorTextField,
        anchorIdField: flags.anchorIdField,
        minShare: flags.minShare,
        maxMissing: flags.maxMissing,
        detections: flags.detections,
        detectionsOf: flags.detectionsOf,
        ledger: flags.ledger,
        generation: flags.generation,
      });
      if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      if (!flags.quiet)
        process.stderr.write(
          anchorSummary(report)
            .map((l) => `tailguard: ${l}\n`)
            .join(''),
        );
      // Said even with --quiet: an anchor losing ground must not pass silently.
      for (const w of report.warnings) process.stderr.write(`tailguard: WARNING: ${w}\n`);
      const flagged = flagTable(check);
      for (const reason of report.gate.reasons)
        process.stderr.write(`tailguard: CHECK FAILED: ${withFlags(reason, flagged)}\n`);
      setExitCode(report.gate.passed ? 0 : EXIT_CHECK_FAILED);
    });
  return new Command('anchor')
    .description('Anchor integrity: keep a verified human anchor in every generation of training data.')
    .addCommand(check.exitOverride());
}
