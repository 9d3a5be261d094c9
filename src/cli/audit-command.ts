/** `tailguard audit`: the CLI face of auditCorpus (the batch entropy gate). */
import { Command } from 'commander';
import { auditCorpus } from '../audit/audit-corpus.js';
import { EXIT_CHECK_FAILED, finiteNumber } from './option-parsers.js';

interface AuditFlags {
  out: string;
  textField: string;
  idField?: string;
  batchSize: number;
  groupField?: string;
  entropyFloor?: number;
  ttrFloor?: number;
  reference?: string;
  percentile: number;
  json?: boolean;
  quiet?: boolean;
}

export function auditCommand(setExitCode: (code: number) => void): Command {
  return new Command('audit')
    .description(
      'Gate batches of a corpus on their diversity: word entropy and type-token ratio per batch against floors.\n\n' +
        'Per batch (every --batch-size documents, or one batch per value of --group-field), over the pooled words\n' +
        'of its documents: entropy = -Σ p(w) log2 p(w) in bits, TTR = distinct words / words. A batch below a floor\n' +
        'is HOLD_FOR_REVIEW, else PROCEED. Floors: --entropy-floor / --ttr-floor, or calibrated from a human\n' +
        '--reference corpus cut into batches of the same size (its --percentile-th percentile). Both statistics\n' +
        'depend on how much text a batch pools: compare batches of similar size.\n\n' +
        'Writes to --out: decisions.jsonl (every input row: accepted, held or rejected), gate.jsonl (every held\n' +
        'batch and rejected row, and why), batches.jsonl, audit.json. Accepted + held + rejected = input rows.\n\n' +
        'Exit status: 0 every batch PROCEED and no row rejected; 1 some rows rejected (unreadable), no batch held;\n' +
        '2 could not run; 3 some batch is HOLD_FOR_REVIEW.',
    )
    .argument(
      '<input>',
      "corpus: JSONL (.jsonl, .jsonl.gz, .jsonl.zst), Parquet, a directory of .txt files, or '-'; many JSONL/Parquet files as a directory, a quoted glob or @list.txt",
    )
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('--text-field <name>', 'field holding the text', 'text')
    .option('--id-field <name>', 'field holding the document id (default: the line number)')
    .option('--batch-size <n>', 'documents per batch', finiteNumber('--batch-size'), 100)
    .option('--group-field <name>', "batch by this field's value instead of by count")
    .option('--entropy-floor <bits>', 'hold batches whose word entropy is below this', finiteNumber('--entropy-floor'))
    .option('--ttr-floor <ratio>', 'hold batches whose type-token ratio is below this', finiteNumber('--ttr-floor'))
    .option('--reference <corpus>', 'human reference corpus to calibrate both floors from')
    .option('--percentile <p>', 'percentile of the reference batches used as floor', finiteNumber('--percentile'), 5)
    .option('--json', 'print audit.json to stdout')
    .option('-q, --quiet', 'no report on stderr')
    .action(async (input: string, flags: AuditFlags) => {
      const s = await auditCorpus({
        input,
        out: flags.out,
        textField: flags.textField,
        idField: flags.idField,
        batchSize: flags.batchSize,
        groupField: flags.groupField,
        entropyFloor: flags.entropyFloor,
        ttrFloor: flags.ttrFloor,
        reference: flags.reference,
        percentile: flags.percentile,
      });
      if (flags.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      if (!flags.quiet) {
        const f = s.floors;
        process.stderr.write(
          `tailguard: floors: entropy ${f.entropy?.toFixed(3) ?? 'none'} bits, TTR ${f.ttr?.toFixed(4) ?? 'none'} (${f.source})\n` +
            `tailguard: ${s.batches.total} batches: ${s.batches.proceed} PROCEED, ${s.batches.hold_for_review} HOLD_FOR_REVIEW; ` +
            `${s.counts.input_rows} rows: ${s.counts.accepted} accepted, ${s.counts.held} held, ${s.counts.rejected} rejected (see ${flags.out}/gate.jsonl)\n`,
        );
      }
      setExitCode(s.batches.hold_for_review > 0 ? EXIT_CHECK_FAILED : s.counts.rejected > 0 ? 1 : 0);
    });
}
