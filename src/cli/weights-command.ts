/** `tailguard weights`: the CLI face of weightsRun. */
import { Command } from 'commander';
import { weightsRun } from '../weights/weights-run.js';
import { repeatsWarning } from '../io/repeated-ids.js';
import type { DistanceMetric } from '../coverage/vectors.js';
import { frameOptions, frameRequest, metricOption, type FrameFlags } from './frame-options.js';
import { numberAtLeast } from './option-parsers.js';

interface WeightsFlags extends FrameFlags {
  reference: string;
  candidate: string;
  out: string;
  clusters: number;
  maxWeight: number;
  detections?: string;
  seed: number;
  metric: DistanceMetric;
  json?: boolean;
  quiet?: boolean;
}

export function weightsCommand(): Command {
  return new Command('weights')
    .description(
      "One oversampling weight per candidate document, so that the weighted candidate matches the reference's\n" +
        'distribution over embedding clusters (k-means on the reference) more closely: w = reference share /\n' +
        "candidate share of the document's cluster (× (1 − p_synthetic) with --detections), mean 1, capped at\n" +
        '--max-weight. Writes OUT/weights.jsonl and OUT/weights.parquet (id, weight, cluster, region_label) and OUT/report.json\n' +
        '(total-variation distance between the cluster histograms before and after, per-cluster summary with each\n' +
        "cluster's label: its most distinctive words, when the reference's texts can be read). Weights\n" +
        'cannot fix a cluster the candidate lacks entirely: the report lists them.\n' +
        'Ids may repeat: every row is weighted, and --detections are joined to a repeated id by corpus line (a score\n' +
        'directory candidate) or in order; an ambiguous join is refused. report.json duplicate_ids and a WARNING on\n' +
        'stderr say so.\n' +
        "The clusters are coverage's regions: k-means of the reference in its anchor frame (whitened; --no-whiten\n" +
        'for the embeddings as loaded), so the same --clusters, --seed and --metric give the clusters `coverage` calls regions.',
    )
    .requiredOption('--reference <path>', 'the human anchor: score directory or .npy')
    .requiredOption('--candidate <path>', 'the corpus to weight: score directory or .npy')
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('--clusters <n>', 'k-means clusters of the reference', numberAtLeast('--clusters', 1), 32)
    .option('--max-weight <w>', 'cap on any one weight (≥ 1)', numberAtLeast('--max-weight', 1), 10)
    .option(
      '--detections <file>',
      'detections.jsonl of `tailguard detect` over the candidate: down-weight by p_synthetic',
    )
    .option('--seed <n>', 'seed of the clustering', numberAtLeast('--seed', 0), 1)
    .addOption(metricOption())
    .addOption(frameOptions('the reference')[0])
    .addOption(frameOptions('the reference')[1])
    .addOption(frameOptions('the reference')[2])
    .option('--json', 'print report.json to stdout')
    .option('-q, --quiet', 'no report on stderr')
    .action(async (flags: WeightsFlags) => {
      const r = await weightsRun({
        reference: flags.reference,
        candidate: flags.candidate,
        out: flags.out,
        clusters: flags.clusters,
        maxWeight: flags.maxWeight,
        detections: flags.detections,
        seed: flags.seed,
        metric: flags.metric,
        ...frameRequest(flags),
      });
      if (flags.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      // Said even with --quiet: weights.jsonl joined back by a repeated id would go to the wrong rows.
      if (r.duplicate_ids) process.stderr.write(`tailguard: WARNING: ${repeatsWarning(r.duplicate_ids)}\n`);
      if (!flags.quiet) {
        process.stderr.write(
          `tailguard: ${r.candidate.documents} weights over ${r.clusters} clusters; total variation vs the reference ${r.tv_before.toFixed(3)} → ${r.tv_after.toFixed(3)} ` +
            `(weights ${r.weight_summary.min.toFixed(2)}–${r.weight_summary.max.toFixed(2)}, ${r.capped_documents} capped at ${r.max_weight})\n`,
        );
        for (const c of r.cannot_fix) process.stderr.write(`tailguard: WARNING: ${c.note}\n`);
      }
    });
}
