/** `tailguard review export` and `tailguard review import`: the CLI faces of exportReviewQueue and importReviews. */
import { Command } from 'commander';
import { exportReviewQueue } from '../review/export.js';
import { importReviews } from '../review/import.js';
import { integerAtLeast, positiveInt } from './option-parsers.js';

interface ExportFlags {
  detections: string;
  audit?: string;
  tails?: string;
  scores?: string;
  out: string;
  budget: number;
  seed: number;
  overwrite?: boolean;
  json?: boolean;
  quiet?: boolean;
}

function exportCommand(): Command {
  return new Command('export')
    .summary('write a queue of hard cases for human verification (JSONL, CSV, Label Studio)')
    .description(
      'Write a queue of documents for human verification, weighted toward the hard cases, each with its reasons.\n\n' +
        "Reasons: near_threshold (detections of undeclared provenance closest to their detector's threshold, by\n" +
        '|score − threshold|; the thresholds come from summary.json beside --detections), tail_region (ids of --tails, a\n' +
        'JSONL of rows with `id`), held_batch (rows of the batches an --audit run held). The --budget is shared in\n' +
        'turns: each reason present takes one document in turn (near_threshold, tail_region, held_batch) until the\n' +
        'budget is spent, skipping documents already taken, so every reason gets an equal share and a short one\n' +
        'leaves the rest to the others; tail and held rows are a uniform sample fixed by --seed. A document is\n' +
        'listed once, with every reason it has. Texts are joined by id from the scored corpus (--scores, default\n' +
        "the score directory of the detections) or a tails row's `text`.\n\n" +
        'Writes OUT/queue.jsonl and OUT/queue.csv (one row per document; fill in verdict = human | machine |\n' +
        'unsure, reviewer, comment, reviewed_at), OUT/label-studio.json (Label Studio tasks) with its labeling\n' +
        'config OUT/label-studio.xml, and OUT/review.json (the rule, band, counts per reason). An existing queue is\n' +
        'not replaced without --overwrite.\n\n' +
        'Exit status: 0 done; 2 could not run (bad options or input; the message names file and line).',
    )
    .requiredOption('--detections <file>', 'detections.jsonl of `tailguard detect` (or its output directory)')
    .option('--audit <dir>', '`tailguard audit` output directory: rows of held batches are candidates')
    .option(
      '--tails <file>',
      'JSONL of tail-region documents (rows with `id`; `region` and `text` are used if present)',
    )
    .option('--scores <dir>', "score directory whose corpus gives the texts (default: the detections' own)")
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('--budget <n>', 'documents in the queue', positiveInt('--budget'), 100)
    .option('--seed <n>', 'seed of the tail and held-batch samples', integerAtLeast('--seed', 0), 1)
    .option('--overwrite', 'replace an existing queue in OUT')
    .option('--json', 'print review.json to stdout')
    .option('-q, --quiet', 'no report on stderr')
    .action(async (flags: ExportFlags) => {
      const s = await exportReviewQueue({
        detections: flags.detections,
        audit: flags.audit,
        tails: flags.tails,
        scores: flags.scores,
        out: flags.out,
        budget: flags.budget,
        seed: flags.seed,
        overwrite: flags.overwrite,
      });
      if (flags.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      if (!flags.quiet) {
        const per = (Object.keys(s.selected_for) as (keyof typeof s.selected_for)[])
          .filter((r) => s.candidates[r] !== null)
          .map(
            (r) =>
              `${r} ${s.selected_for[r]} taken of ${s.candidates[r]} candidates (${s.with_reason[r]} listed with it)`,
          )
          .join('; ');
        process.stderr.write(
          `tailguard: queued ${s.queued} of a budget of ${s.budget}: ${per}\n` +
            (s.band !== null ? `tailguard: near_threshold band: |score − threshold| ≤ ${s.band.toFixed(4)}\n` : '') +
            (s.declared_provenance_skipped
              ? `tailguard: ${s.declared_provenance_skipped} detections of declared provenance were not candidates\n`
              : '') +
            `tailguard: wrote ${s.outputs.jsonl}, ${s.outputs.csv}, ${s.outputs.labelStudio} (config ${s.outputs.labelStudioConfig})\n`,
        );
      }
      for (const w of s.warnings) process.stderr.write(`tailguard: WARNING: ${w}\n`);
    });
}

interface ImportFlags {
  log: string;
  queue?: string;
  json?: boolean;
  quiet?: boolean;
}

function importCommand(): Command {
  return new Command('import')
    .summary("append reviewers' verdicts (queue JSONL/CSV, Label Studio export) to a review log")
    .description(
      "Read reviewers' verdicts and append every decision to an append-only review log.\n\n" +
        'VERDICTS is the queue with its verdict column filled (queue.jsonl, or queue.csv from a spreadsheet) or a\n' +
        'Label Studio JSON export (of the tasks of label-studio.json). Read: id, verdict (human | machine | unsure), reviewer,\n' +
        'comment (the reason) and reviewed_at (default: now); rows without a verdict are skipped. The whole file is\n' +
        'checked first: a bad verdict, an id not in the queue (--queue, default queue.jsonl beside VERDICTS) or a\n' +
        'bad time stops the import with FILE:LINE, and nothing is logged. Each decision is appended to LOG as a JSON\n' +
        'line (id, verdict, reviewer, time, reason, queue_reasons, source, source_at, logged_at); the log is never\n' +
        'rewritten. A decision already logged (same document, reviewer, verdict and reason) is not logged again.\n' +
        '`tailguard calibrate --reviewed LOG` uses the latest human/machine verdict of each document.\n\n' +
        'Exit status: 0 done; 2 could not run (bad options or input; nothing was logged).',
    )
    .argument('<verdicts>', 'the filled-in queue (.jsonl, .csv) or a Label Studio export (.json)')
    .requiredOption('--log <file>', 'the review log to append to (created if absent)')
    .option('--queue <file>', 'the queue the verdicts answer (default: queue.jsonl beside VERDICTS)')
    .option('--json', 'print the counts as JSON to stdout')
    .option('-q, --quiet', 'no report on stderr')
    .action(async (verdicts: string, flags: ImportFlags) => {
      const s = await importReviews({ verdicts, log: flags.log, queue: flags.queue });
      if (flags.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      if (!flags.quiet)
        process.stderr.write(
          `tailguard: ${s.read} ${s.format === 'label-studio' ? 'annotations' : 'rows'} read from ${verdicts}: logged ${s.logged} ` +
            `(human ${s.by_verdict.human}, machine ${s.by_verdict.machine}, unsure ${s.by_verdict.unsure}), ` +
            `${s.unchanged} already logged, ${s.unreviewed} without a verdict` +
            (s.cancelled ? `, ${s.cancelled} cancelled` : '') +
            `; log ${s.log}\n`,
        );
    });
}

export function reviewCommand(): Command {
  return new Command('review')
    .description(
      'Route the hard cases to human verification and log the verdicts: `review export` writes the queue,\n' +
        '`review import` appends the verdicts to a review log, which `calibrate --reviewed` reads.',
    )
    .addCommand(exportCommand().exitOverride())
    .addCommand(importCommand().exitOverride());
}
