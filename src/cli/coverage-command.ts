/** `tailguard coverage`: the CLI face of coverageRun. */
import { Command, InvalidArgumentError } from 'commander';
import { coverageRun, type CoverageReport } from '../coverage/coverage-run.js';
import { DEFAULT_INDEX_PARAMS } from '../coverage/ann-index.js';
import { defaultCoverageThreads } from '../coverage/index-pair.js';
import { DEFAULT_RECALL_TARGET, shortOfTarget } from '../coverage/ef-tuning.js';
import { repeatsWarning } from '../io/repeated-ids.js';
import { numberBetween, positiveInt } from './option-parsers.js';
import { stageProgress } from './progress.js';

interface CoverageFlags {
  reference: string;
  candidate: string;
  out: string;
  k: number;
  m: number;
  efConstruction: number;
  efSearch: number;
  indexRecall: number;
  maxEfSearch: number;
  clusters: number;
  referenceIndex?: string;
  maxProbe: number;
  threads: number;
  json?: boolean;
  quiet?: boolean;
}

export function coverageCommand(): Command {
  return new Command('coverage')
    .description(
      'How well a candidate corpus covers a human reference in embedding space: precision, recall, density and\n' +
        'coverage (Naeem et al. 2020) with k-NN radii, Euclidean on L2-normalised embeddings, 95% bootstrap CIs.\n\n' +
        'R and C are `tailguard score` output directories (embeddings.npy + scores.jsonl ids) or .npy files (float32\n' +
        'N×d; ids from X.jsonl beside X.npy, field id, else row numbers). Neighbours come from HNSW indexes\n' +
        '(hnswlib): no N×M matrix, so millions of documents fit on one machine. Writes OUT/report.json,\n' +
        'OUT/reference.jsonl (per reference document: covered, radius, nearest candidate), OUT/candidate.jsonl (per\n' +
        'candidate: density, in the reference manifold) and the reference index (OUT/reference.hnsw: reuse it with\n' +
        '--reference-index to check other candidates against the same reference without building it again). report.json\n' +
        'gives the index\'s recall@k against exact search on a sample. Each index\'s --ef-search is doubled until\n' +
        'a sample of its points\' k+1 nearest neighbours match brute force to --index-recall (in high dimension a\n' +
        'radius a little too large flips many memberships): slower on hard data, and said when the cap is hit.\n' +
        'A radius that stands out from its neighbours\' (the search missed the nearest points) is recomputed by\n' +
        'exact search (at most 1% of a set; report.json index.radius_outliers).\n' +
        'Example documents of each reference region come with the start of their texts when the reference\'s\n' +
        'corpus can be read (a score directory\'s run.json names it; an .npy\'s X.jsonl may carry a text field).\n' +
        'Ids may repeat: rows are matched by position, never by id; report.json duplicate_ids and a WARNING on stderr\n' +
        'say so.',
    )
    .requiredOption('--reference <path>', 'the human anchor: score directory or .npy')
    .requiredOption('--candidate <path>', 'the corpus to check: score directory or .npy')
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('--k <k>', 'neighbours for the k-NN radii', positiveInt('--k'), 5)
    .option('--m <m>', 'HNSW graph degree', positiveInt('--m'), DEFAULT_INDEX_PARAMS.m)
    .option('--ef-construction <n>', 'HNSW build-time candidate list', positiveInt('--ef-construction'), DEFAULT_INDEX_PARAMS.efConstruction)
    .option('--ef-search <n>', 'HNSW query-time candidate list', positiveInt('--ef-search'), DEFAULT_INDEX_PARAMS.efSearch)
    .option('--index-recall <x>', 'recall@(k+1) of self-queries each index must reach (ef doubled until it does; 0: keep --ef-search)', numberBetween('--index-recall', 0, 1, { closed: true }), DEFAULT_RECALL_TARGET.target)
    .option('--max-ef-search <n>', 'largest ef tried for --index-recall', positiveInt('--max-ef-search'), DEFAULT_RECALL_TARGET.maxEf)
    .option('--reference-index <file>', 'load the reference index saved by an earlier run over the same reference (its OUT/reference.hnsw) instead of building it')
    .option('--clusters <n>', 'k-means regions of the reference for the tail table', positiveInt('--clusters'), 32)
    .option('--max-probe <n>', 'largest k-NN ball enumerated by index queries; larger ones are counted exactly (up to 1% of a side), beyond that to this many (density a lower bound) and reported', positiveInt('--max-probe'), 4096)
    .option('--threads <n>', '1: all on one thread; 2: each index built and queried on a worker thread of its own, the two at once', oneOrTwo, defaultCoverageThreads())
    .option('--json', 'print report.json to stdout')
    .option('-q, --quiet', 'no progress or report on stderr')
    .action(async (flags: CoverageFlags) => {
      const progress = stageProgress({ quiet: !!flags.quiet, tty: process.stderr.isTTY === true });
      const r = await coverageRun({
        reference: flags.reference, candidate: flags.candidate, out: flags.out, referenceIndex: flags.referenceIndex, k: flags.k, clusters: flags.clusters, maxProbe: flags.maxProbe, threads: flags.threads, onProgress: progress.onProgress,
        index: { m: flags.m, efConstruction: flags.efConstruction, efSearch: flags.efSearch },
        indexRecall: { target: flags.indexRecall, maxEf: flags.maxEfSearch },
      }).finally(() => progress.stop());
      if (flags.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      // Said even with --quiet: it qualifies the numbers.
      process.stderr.write(cappedWarning(r.capped, r.max_probe) + efWarning(r.index.ef_tuning, flags.maxEfSearch));
      if (r.duplicate_ids) process.stderr.write(`tailguard: WARNING: ${repeatsWarning(r.duplicate_ids)}\n`);
      if (!flags.quiet) {
        const { reference: ro, candidate: co } = r.index.radius_outliers;
        const outliers = { flagged: ro.flagged + co.flagged, corrected: ro.corrected + co.corrected };
        const { reference: re, candidate: ce } = r.exact_balls;
        const exactBalls = { counted: re.counted + ce.counted, shrunk: re.shrunk + ce.shrunk };
        const f = (m: { value: number; ci: { lo: number; hi: number } }) => `${m.value.toFixed(3)} (${m.ci.lo.toFixed(3)}–${m.ci.hi.toFixed(3)})`;
        process.stderr.write(
          `tailguard: ${r.reference.documents} reference, ${r.candidate.documents} candidate documents, k = ${r.k}\n` +
            `tailguard: precision ${f(r.precision)}, recall ${f(r.recall)}, density ${f(r.density)}, coverage ${f(r.coverage)}\n` +
            `tailguard: index recall@${r.k} vs exact search ${r.index.recall_at_k.toFixed(3)} on ${r.index.recall_sample} queries; ` +
            `ef ${r.index.ef_tuning.reference.ef} (reference), ${r.index.ef_tuning.candidate.ef} (candidate) for self-query recall ≥ ${r.index.ef_tuning.reference.target}; ` +
            `${outliers.flagged} outlying radii recomputed by exact search, ${outliers.corrected} of them too large` +
            (exactBalls.counted ? `; ${exactBalls.counted} balls over --max-probe ${r.max_probe} points counted exactly, ${exactBalls.shrunk} of their radii too large` : '') + '\n' +
            `tailguard: ${r.tails.length} of ${r.clusters.length} reference regions are thin or absent in the candidate` +
            (r.tails.length ? ` (${r.tails.map((t) => `#${t}: ${(100 * r.clusters[t]!.reference_share).toFixed(1)}% of the reference, ${r.clusters[t]!.status}`).join('; ')})` : '') + '\n',
        );
      }
    });
}

/** One thread, or one worker thread per index (the passes split no further yet). */
function oneOrTwo(v: string): number {
  if (v !== '1' && v !== '2') throw new InvalidArgumentError('--threads must be 1 or 2');
  return Number(v);
}

function cappedWarning(c: CoverageReport['capped'], maxProbe: number): string {
  if (!c.reference_balls && !c.candidate_balls) return '';
  return `tailguard: ${c.reference_balls} reference and ${c.candidate_balls} candidate balls hold more than --max-probe ${maxProbe} points: density is a lower bound` +
    (c.unchecked_candidates || c.unchecked_reference ? `; ${c.unchecked_candidates} candidate and ${c.unchecked_reference} reference points could not be checked in full (precision/recall may be low by that share)` : '') + '\n';
}

function efWarning(t: CoverageReport['index']['ef_tuning'], maxEf: number): string {
  return shortOfTarget(t).map(([side, e]) =>
    `tailguard: the ${side} index reaches self-query recall ${e.recall.toFixed(3)} < ${e.target} at --max-ef-search ${maxEf}: radii may be too large (precision and density high); raise --max-ef-search or --m\n`).join('');
}
