/** `tailguard coverage`: the CLI face of coverageRun. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../errors.js';
import { coveragePrepare, coverageReduce, coverageShard } from '../coverage/coverage-shards.js';
import { parseShard, shardFromEnvironment, type ShardSpec } from '../score/shards/from-env.js';
import { coverageRun, hnswFields, type ExactDeviceRequest, type HnswReportFields } from '../coverage/coverage-run.js';
import type { ExactSearchStats } from '../coverage/exact/exact-prdc.js';
import { EXACT_WORK_BUDGET, fmtWork, SEARCH_REQUESTS, type SearchRequest } from '../coverage/search-choice.js';
import type { DistanceMetric } from '../coverage/vectors.js';
import { DEFAULT_INDEX_PARAMS } from '../coverage/hnsw/ann-index.js';
import { DEFAULT_RECALL_TARGET, shortOfTarget } from '../coverage/hnsw/ef-tuning.js';
import { repeatsWarning } from '../io/repeated-ids.js';
import { frameOptions, frameRequest, metricOption, type FrameFlags } from './frame-options.js';
import { numberBetween, positiveInt } from './option-parsers.js';
import { stageProgress } from './progress.js';

interface CoverageFlags extends FrameFlags {
  reference?: string;
  candidate?: string;
  shard?: string;
  shards?: number;
  reduce?: boolean;
  prepare?: boolean;
  out: string;
  k: number;
  metric: DistanceMetric;
  search: SearchRequest;
  device: ExactDeviceRequest;
  m: number;
  efConstruction: number;
  efSearch: number;
  indexRecall: number;
  maxEfSearch: number;
  clusters: number;
  referenceIndex?: string;
  maxProbe: number;
  threads?: number;
  json?: boolean;
  quiet?: boolean;
}

export function coverageCommand(): Command {
  return new Command('coverage')
    .description(
      'How well a candidate corpus covers a human reference in embedding space: precision, recall, density and\n' +
        'coverage (Naeem et al. 2020) with k-NN radii, 95% bootstrap CIs. --metric cosine (default): Euclidean\n' +
        'distances between L2-normalised embeddings; euclidean: between the rows as given.\n\n' +
        'R and C are `tailguard score` output directories (embeddings.npy + scores.jsonl ids) or .npy files (float32\n' +
        'N×d; ids from X.jsonl beside X.npy, field id, else row numbers). --search exact compares every pair by\n' +
        "blocked matrix products in ONNX Runtime (CUDA on a GPU), keeping only each block's k-NN lists, counts and\n" +
        'flags: never an N×M matrix, and the numbers of a float64 loop over every pair. --search hnsw finds\n' +
        'neighbours with HNSW indexes (hnswlib), so millions of documents fit in time on one machine. auto (the\n' +
        'default) takes exact on a GPU or while the work (pairs × dimension) is small, HNSW beyond, and HNSW\n' +
        'whenever an HNSW option below is given; report.json says which and why. Writes OUT/report.json,\n' +
        'OUT/reference.jsonl (per reference document: covered, radius, nearest candidate), OUT/candidate.jsonl (per\n' +
        'candidate: density, in the reference manifold) and, with HNSW, the reference index (OUT/reference.hnsw:\n' +
        'reuse it with --reference-index to check other candidates against the same reference without building it\n' +
        "again). With HNSW, report.json gives the index's recall@k against exact search on a sample; each index's\n" +
        "--ef-search is doubled until a sample of its points' k+1 nearest neighbours match brute force to\n" +
        '--index-recall (in high dimension a radius a little too large flips many memberships): slower on hard\n' +
        "data, and said when the cap is hit. A radius that stands out from its neighbours' (the search missed the\n" +
        'nearest points) is recomputed by exact search (at most 1% of a set; report.json index.radius_outliers).\n' +
        "Example documents of each reference region come with the start of their texts when the reference's\n" +
        "corpus can be read (a score directory's run.json names it; an .npy's X.jsonl may carry a text field), and\n" +
        "each region with a label: its five most distinctive words (c-TF-IDF over its documents' texts against the\n" +
        "other regions'). reference.jsonl and candidate.jsonl give each document's region; `tailguard tails export`\n" +
        'reads them.\n' +
        'Ids may repeat: rows are matched by position, never by id; report.json duplicate_ids and a WARNING on stderr\n' +
        'say so.\n\n' +
        'A large candidate can be split over tasks (exact search only): --shard I/N writes candidate shard I of N into\n' +
        'OUT/shard-0000I-of-0000N/ (the reference radii are computed in each, unless --prepare computed them once\n' +
        'into OUT/reference-radii/ before the shards ran); --reduce --out OUT then writes the\n' +
        'report.json, reference.jsonl and candidate.jsonl of one exact run (docs/scale-out.md#coverage-in-shards).' +
        '\n\n' +
        "Both sets are measured in the reference's frame: centred on its mean and whitened by its covariance\n" +
        '(shrunk), fitted on R and saved as OUT/anchor-frame.json beside the index; --anchor-frame reuses a saved\n' +
        'one, and --reference-index reads the one beside the index (it was built in it). --no-whiten measures the\n' +
        'embeddings as loaded (report.json frame says which).',
    )
    .option('--reference <path>', 'the human anchor: score directory or .npy (required, except with --reduce)')
    .option('--candidate <path>', 'the corpus to check: score directory or .npy (required, except with --reduce)')
    .requiredOption('-o, --out <dir>', 'output directory')
    .option(
      '--shard <I/N>',
      'exact search for candidate shard I (0-based) of N only, into OUT/shard-0000I-of-0000N/ (docs/scale-out.md); then --reduce',
    )
    .option(
      '--shards <n>',
      'the shard count of a job array: shard I from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX',
      positiveInt('--shards'),
    )
    .option(
      '--prepare',
      'before the shards: compute the reference radii once into OUT/reference-radii/ (no --candidate), which every shard with the same reference, --k, --metric and frame then reads',
    )
    .option(
      '--reduce',
      "combine OUT's finished candidate shards into the report one run writes (no --reference/--candidate)",
    )
    .option('--k <k>', 'neighbours for the k-NN radii', positiveInt('--k'), 5)
    .addOption(metricOption())
    .addOption(
      new Option(
        '--search <search>',
        `exact: every pair; hnsw: HNSW indexes; auto: exact on a GPU or up to ${fmtWork(EXACT_WORK_BUDGET)} pairs × dimension on CPU, else HNSW`,
      )
        .choices(SEARCH_REQUESTS)
        .default('auto'),
    )
    .addOption(
      new Option(
        '--device <device>',
        'where exact search runs; auto = CUDA when installed and a GPU is visible, else CPU',
      )
        .choices(['auto', 'cpu', 'cuda'])
        .default('auto'),
    )
    .option('--m <m>', 'HNSW graph degree', positiveInt('--m'), DEFAULT_INDEX_PARAMS.m)
    .option(
      '--ef-construction <n>',
      'HNSW build-time candidate list',
      positiveInt('--ef-construction'),
      DEFAULT_INDEX_PARAMS.efConstruction,
    )
    .option(
      '--ef-search <n>',
      'HNSW query-time candidate list',
      positiveInt('--ef-search'),
      DEFAULT_INDEX_PARAMS.efSearch,
    )
    .option(
      '--index-recall <x>',
      'HNSW: recall@(k+1) of self-queries each index must reach (ef doubled until it does; 0: keep --ef-search)',
      numberBetween('--index-recall', 0, 1, { closed: true }),
      DEFAULT_RECALL_TARGET.target,
    )
    .option(
      '--max-ef-search <n>',
      'HNSW: largest ef tried for --index-recall',
      positiveInt('--max-ef-search'),
      DEFAULT_RECALL_TARGET.maxEf,
    )
    .option(
      '--reference-index <file>',
      'HNSW: load the reference index saved by an earlier run over the same reference (its OUT/reference.hnsw) instead of building it',
    )
    .option('--clusters <n>', 'k-means regions of the reference for the tail table', positiveInt('--clusters'), 32)
    .option(
      '--max-probe <n>',
      'HNSW: largest k-NN ball enumerated by index queries; larger ones are counted exactly (up to 1% of a side), beyond that to this many (density a lower bound) and reported',
      positiveInt('--max-probe'),
      4096,
    )
    .option(
      '--threads <n>',
      'HNSW: 1 = all on one thread, 2 (default with 2+ cores) = each index built and queried on a worker thread of its own, the two at once; exact search: ONNX Runtime threads (default: every core)',
      oneOrTwo,
    )
    .option('--json', 'print report.json to stdout')
    .option('-q, --quiet', 'no progress or report on stderr')
    .addOption(frameOptions('the reference')[0])
    .addOption(frameOptions('the reference')[1])
    .addOption(frameOptions('the reference')[2])
    .action(async (flags: CoverageFlags, cmd: Command) => {
      const progress = stageProgress({ quiet: !!flags.quiet, tty: process.stderr.isTTY === true });
      // HNSW's options go to the library only when given: auto takes HNSW when they are (search-choice.ts).
      const given = <K extends keyof CoverageFlags>(key: K): CoverageFlags[K] | undefined =>
        cmd.getOptionValueSource(key) === 'default' ? undefined : flags[key];
      const shard = chooseShard(flags);
      if (flags.reduce && shard) throw new UsageError('`reduce` combines the shards: give it without `shard`');
      // What --prepare and --shard share (the exact search's settings and the frame).
      const exact = {
        out: flags.out,
        k: flags.k,
        metric: flags.metric,
        device: flags.device,
        threads: flags.threads,
        onProgress: progress.onProgress,
        ...frameRequest(flags),
      };
      if (flags.prepare) {
        if (shard || flags.reduce)
          throw new UsageError('`prepare` runs once before the shards: give it without `shard`, `shards` or `reduce`');
        if (flags.reference === undefined) throw new UsageError('`prepare` needs `reference`');
        const done = await coveragePrepare({ ...exact, reference: flags.reference }).finally(() => progress.stop());
        if (flags.json) process.stdout.write(`${JSON.stringify(done, null, 2)}\n`);
        if (!flags.quiet)
          process.stderr.write(
            `tailguard: reference radii of ${done.settings.reference_documents} documents prepared in ${flags.out}/reference-radii/; now run the shards (--shard I/N)\n`,
          );
        return;
      }
      if (!flags.reduce && (flags.reference === undefined || flags.candidate === undefined))
        throw new UsageError('`reference` and `candidate` are required (except with `reduce`)');
      if (shard) {
        const hnswKeys: (keyof CoverageFlags)[] = ['m', 'efConstruction', 'efSearch', 'indexRecall', 'maxEfSearch'];
        const hnswGiven = [...hnswKeys, 'maxProbe' as const, 'referenceIndex' as const].filter(
          (key) => given(key) !== undefined,
        );
        if (flags.search === 'hnsw' || hnswGiven.length)
          throw new UsageError(
            `\`shard\` splits exact search only${hnswGiven.length ? ` (got ${hnswGiven.map((key) => `\`${key}\``).join(', ')})` : ''}: HNSW needs each whole set in one index`,
          );
        const part = await coverageShard({
          ...exact,
          reference: flags.reference!,
          candidate: flags.candidate!,
          shard,
          clusters: flags.clusters,
        }).finally(() => progress.stop());
        if (flags.json) process.stdout.write(`${JSON.stringify(part, null, 2)}\n`);
        if (!flags.quiet)
          process.stderr.write(
            `tailguard: coverage shard ${part.shard.index} of ${part.shard.count} (candidate rows ${part.rows.from}..${part.rows.to - 1}) done; \`tailguard coverage --reduce --out ${flags.out}\` once all are\n`,
          );
        return;
      }
      const r = await (
        flags.reduce
          ? coverageReduce({ out: flags.out, device: flags.device, threads: flags.threads })
          : coverageRun({
              reference: flags.reference!,
              candidate: flags.candidate!,
              out: flags.out,
              referenceIndex: flags.referenceIndex,
              k: flags.k,
              clusters: flags.clusters,
              metric: flags.metric,
              search: flags.search,
              device: flags.device,
              maxProbe: given('maxProbe'),
              threads: flags.threads,
              onProgress: progress.onProgress,
              index: { m: given('m'), efConstruction: given('efConstruction'), efSearch: given('efSearch') },
              indexRecall: { target: given('indexRecall'), maxEf: given('maxEfSearch') },
              ...frameRequest(flags),
            })
      ).finally(() => progress.stop());
      if (flags.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      const h = hnswFields(r);
      // Said even with --quiet: it qualifies the numbers.
      if (h)
        process.stderr.write(cappedWarning(h.capped, h.max_probe) + efWarning(h.index.ef_tuning, flags.maxEfSearch));
      if (r.duplicate_ids) process.stderr.write(`tailguard: WARNING: ${repeatsWarning(r.duplicate_ids)}\n`);
      if (!flags.quiet) {
        const f = (m: { value: number; ci: { lo: number; hi: number } }) =>
          `${m.value.toFixed(3)} (${m.ci.lo.toFixed(3)}–${m.ci.hi.toFixed(3)})`;
        process.stderr.write(
          `tailguard: ${r.reference.documents} reference, ${r.candidate.documents} candidate documents, k = ${r.k}, ${r.metric} distances, ${r.frame.method === 'none' ? 'embeddings as loaded' : `in the reference's frame (${r.frame.method})`}\n` +
            `tailguard: ${r.search.used} search (${r.search.reason})\n` +
            `tailguard: precision ${f(r.precision)}, recall ${f(r.recall)}, density ${f(r.density)}, coverage ${f(r.coverage)}\n` +
            (h ? hnswLine(r.k, h) : exactLine(r.exact_search)) +
            `tailguard: ${r.tails.length} of ${r.clusters.length} reference regions are thin or absent in the candidate` +
            (r.tails.length
              ? ` (${r.tails.map((t) => `#${t}: ${(100 * r.clusters[t]!.reference_share).toFixed(1)}% of the reference, ${r.clusters[t]!.status}`).join('; ')})`
              : '') +
            '\n',
        );
      }
    });
}

function hnswLine(k: number, h: HnswReportFields): string {
  const { reference: ro, candidate: co } = h.index.radius_outliers;
  const outliers = { flagged: ro.flagged + co.flagged, corrected: ro.corrected + co.corrected };
  const { reference: re, candidate: ce } = h.exact_balls;
  const exactBalls = { counted: re.counted + ce.counted, shrunk: re.shrunk + ce.shrunk };
  return (
    `tailguard: index recall@${k} vs exact search ${h.index.recall_at_k.toFixed(3)} on ${h.index.recall_sample} queries; ` +
    `ef ${h.index.ef_tuning.reference.ef} (reference), ${h.index.ef_tuning.candidate.ef} (candidate) for self-query recall ≥ ${h.index.ef_tuning.reference.target}; ` +
    `${outliers.flagged} outlying radii recomputed by exact search, ${outliers.corrected} of them too large` +
    (exactBalls.counted
      ? `; ${exactBalls.counted} balls over --max-probe ${h.max_probe} points counted exactly, ${exactBalls.shrunk} of their radii too large`
      : '') +
    '\n'
  );
}

function exactLine(e: ExactSearchStats | undefined): string {
  if (!e) return '';
  const researched = e.researched.reference_radii + e.researched.candidate_radii + e.researched.nearest_candidates;
  return (
    `tailguard: exact search on ${e.device} (${e.device === 'cpu' ? `${e.threads} threads, ` : ''}blocks of ${e.tile}): ${e.rechecked_pairs} pairs within float32 rounding of a radius decided in float64` +
    (researched ? `, ${researched} points searched again row by row` : '') +
    (e.fallback_reasons.length ? `; ${e.fallback_reasons.join('; ')}` : '') +
    '\n'
  );
}

/** --shard I/N, else with --shards N the job array's environment (score/shards/from-env.ts), else none. */
function chooseShard(flags: CoverageFlags): ShardSpec | undefined {
  if (flags.shard !== undefined) {
    const spec = parseShard(flags.shard);
    if (flags.shards !== undefined && flags.shards !== spec.count)
      throw new UsageError(`\`shard\` ${flags.shard} and \`shards\` ${flags.shards} disagree on the shard count`);
    return { ...spec, source: `--shard ${flags.shard}` };
  }
  return flags.shards === undefined ? undefined : shardFromEnvironment(process.env, { shards: flags.shards });
}

/** One thread, or one worker thread per index (the passes split no further yet). */
function oneOrTwo(v: string): number {
  if (v !== '1' && v !== '2') throw new InvalidArgumentError('--threads must be 1 or 2');
  return Number(v);
}

function cappedWarning(c: HnswReportFields['capped'], maxProbe: number): string {
  if (!c.reference_balls && !c.candidate_balls) return '';
  return (
    `tailguard: ${c.reference_balls} reference and ${c.candidate_balls} candidate balls hold more than --max-probe ${maxProbe} points: density is a lower bound` +
    (c.unchecked_candidates || c.unchecked_reference
      ? `; ${c.unchecked_candidates} candidate and ${c.unchecked_reference} reference points could not be checked in full (precision/recall may be low by that share)`
      : '') +
    '\n'
  );
}

function efWarning(t: HnswReportFields['index']['ef_tuning'], maxEf: number): string {
  return shortOfTarget(t)
    .map(
      ([side, e]) =>
        `tailguard: the ${side} index reaches self-query recall ${e.recall.toFixed(3)} < ${e.target} at --max-ef-search ${maxEf}: radii may be too large (precision and density high); raise --max-ef-search or --m\n`,
    )
    .join('');
}
