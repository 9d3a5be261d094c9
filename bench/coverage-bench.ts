/**
 * Coverage bench (synthetic, 256-d): HNSW index build and query throughput, recall@10 against exact search, and
 * the coverage metrics against an exact computation, at each size N (reference N points, candidate N points drawn
 * from the same 64-cluster mixture minus 4 clusters, so a known 1/16 of the reference is a tail). Each size runs in
 * its own child process so that its peak RSS (VmHWM) is its own.
 *
 *   node --import tsx bench/coverage-bench.ts [--sizes 10000,100000,1000000] [--exact-sample 300] [--threads 2] [--index-dir DIR]
 *     [--index-recall 0.98]
 *
 * --threads 2 (default): each index built and queried on a worker thread of its own, the two at once; 1: all on one.
 * --index-recall: prdc's recall target for each index's self-queries (default: the tool's, 0.98; ef-tuning.ts).
 * --index-dir: the built indexes are saved there (DIR/{reference,candidate}-N.hnsw, build time in DIR/build-N.json)
 * and loaded instead of built when there already, so a rerun of the metric pass at 1M skips the ~25-min builds.
 *
 * Throughput and recall@10 are measured at the configured ef (100) and again at the ef each index was tuned to for
 * the metrics (prdc's index-recall target, ef-tuning.ts).
 * Exact checks: recall@10 of 200 queries against brute force; for `--exact-sample` reference points, covered or not,
 * and for as many candidates, the number of reference balls holding them (density ×k; precision when > 0), recomputed
 * by brute force (exact k-NN radii over all N points) and compared with the HNSW path's; at 10k also the four metrics
 * computed exactly over all points.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exactKnn, recallAgainstExact, recallRows } from '../src/coverage/hnsw/ann-index.js';
import { DEFAULT_RECALL_TARGET } from '../src/coverage/hnsw/ef-tuning.js';
import { buildIndexPair } from '../src/coverage/workers/index-pair.js';
import { prdc } from '../src/coverage/hnsw/prdc.js';
import { exactRadius } from '../src/coverage/hnsw/radii.js';
import { normaliseRows, row, sharedVectors, type VectorSet } from '../src/coverage/vectors.js';
import type { OnProgress } from '../src/progress.js';
import { gaussian, mulberry32 } from '../src/random.js';
import { runIfMain } from '../scripts/lib/files.js';

const DIM = 256;

export function mixture(n: number, skipClusters: number, seed: number): VectorSet {
  const crng = mulberry32(42);
  const g = gaussian;
  const centres = Array.from({ length: 64 }, () => Array.from({ length: DIM }, () => g(crng)));
  const rng = mulberry32(seed);
  const data = new Float32Array(n * DIM);
  for (let i = 0; i < n; i++) {
    const c = skipClusters + Math.floor(rng() * (64 - skipClusters));
    for (let j = 0; j < DIM; j++) data[i * DIM + j] = centres[c]![j]! + 0.6 * g(rng);
  }
  normaliseRows(data, DIM);
  return { source: 'synthetic', ids: Array.from({ length: n }, (_, i) => String(i)), dim: DIM, data };
}

function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Stage starts, and a line a minute within a stage, on stderr: a 1M run takes about an hour. */
function logProgress(n: number): OnProgress {
  let stage = '';
  let last = 0;
  return (s, done, total) => {
    if (s === stage && Date.now() - last < 60_000) return;
    stage = s;
    last = Date.now();
    console.error(`  N = ${n}: ${s} ${done} / ${total} (${new Date().toISOString()})`);
  };
}

async function one(
  n: number,
  exactSample: number,
  threads: number,
  indexRecall: number,
  indexDir?: string,
): Promise<Record<string, number>> {
  const k = 5;
  const ref = sharedVectors(mixture(n, 0, 1));
  const cand = sharedVectors(mixture(n, 4, 2));
  const onProgress = logProgress(n);
  const files = indexDir
    ? { reference: join(indexDir, `reference-${n}.hnsw`), candidate: join(indexDir, `candidate-${n}.hnsw`) }
    : undefined;
  const buildLog = indexDir ? join(indexDir, `build-${n}.json`) : '';
  const saved = !!files && existsSync(files.reference) && existsSync(files.candidate) && existsSync(buildLog);
  let t = performance.now();
  const pair = await buildIndexPair(ref, cand, { threads, onProgress, ...(saved ? { indexFiles: files } : {}) });
  let buildSeconds = (performance.now() - t) / 1000;
  if (saved) buildSeconds = (JSON.parse(readFileSync(buildLog, 'utf8')) as { build_seconds: number }).build_seconds;
  else if (files) {
    await Promise.all([pair.reference.save(files.reference), pair.candidate.save(files.candidate)]);
    writeFileSync(buildLog, JSON.stringify({ build_seconds: buildSeconds, threads }));
  }
  const queries = Array.from({ length: Math.min(n, 2000) }, (_, i) => i);
  const recallQueries = recallRows(n, 200);
  const speedAndRecall = async () => {
    const t0 = performance.now();
    await pair.reference.knn(queries, 10);
    const qps = queries.length / ((performance.now() - t0) / 1000);
    return [
      qps,
      await recallAgainstExact(ref, cand, recallQueries, await pair.reference.knn(recallQueries, 10), 10),
    ] as const;
  };
  const [queryPerSecond, recall10] = await speedAndRecall();
  t = performance.now();
  const res = await prdc(pair, { k, onProgress, indexRecall: { target: indexRecall } });
  const prdcSeconds = (performance.now() - t) / 1000;
  const [tunedQueryPerSecond, tunedRecall10] = await speedAndRecall();
  await pair.close();
  console.error(`  N = ${n}: metrics in ${prdcSeconds.toFixed(0)} s; exact checks next (${new Date().toISOString()})`);

  // Exact per-point checks on a sample, affordable at any N (each one a few brute-force passes over the reference).
  const step = Math.max(1, Math.floor(n / exactSample));
  // Coverage of a reference point: its exact radius against its exact nearest candidate.
  let covAgree = 0,
    covN = 0;
  for (let i = 0; i < n && covN < exactSample; i += step, covN++) {
    const covered = exactKnn(cand, row(ref, i), 1).distances[0]! <= exactRadius(ref, i, k);
    if (covered === (res.reference.covered[i] === 1)) covAgree++;
  }
  // Balls holding a candidate (its density ×k; precision when > 0): an approximate k-NN radius is never below the
  // exact one, so only the reference points within their HNSW radius need their exact radius computed.
  let ballsAgree = 0,
    ballsN = 0,
    ballsAbsError = 0,
    exactInManifold = 0,
    wronglyIn = 0;
  for (let j = 0; j < n && ballsN < exactSample; j += step, ballsN++) {
    const q = row(cand, j);
    let exactBalls = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let d = 0; d < DIM; d++) s += (ref.data[i * DIM + d]! - q[d]!) ** 2;
      const dist = Math.sqrt(s);
      if (dist <= res.reference.radius[i]! && dist <= exactRadius(ref, i, k)) exactBalls++;
    }
    if (exactBalls > 0 === (res.candidate.inManifold[j] === 1)) ballsAgree++;
    else if (exactBalls === 0) wronglyIn++; // a radius too large, or a member miscounted; the other way: a missed member
    if (exactBalls > 0) exactInManifold++;
    ballsAbsError += Math.abs(exactBalls - res.candidate.balls[j]!);
  }
  // All four metrics exactly: affordable only at the smallest size.
  let exact: Record<string, number> = {};
  if (n <= 10_000) {
    const radii = ref.ids.map((_, i) => exactRadius(ref, i, k));
    let inside = 0,
      balls = 0,
      covered = 0;
    for (let j = 0; j < n; j++) {
      const q = row(cand, j);
      let c = 0;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let d = 0; d < DIM; d++) s += (ref.data[i * DIM + d]! - q[d]!) ** 2;
        if (Math.sqrt(s) <= radii[i]!) c++;
      }
      balls += c;
      if (c) inside++;
    }
    for (let i = 0; i < n; i++) if (exactKnn(cand, row(ref, i), 1).distances[0]! <= radii[i]!) covered++;
    exact = { exact_precision: inside / n, exact_density: balls / (k * n), exact_coverage: covered / n };
  }
  return {
    n,
    threads,
    index_recall_target: indexRecall,
    build_seconds: buildSeconds,
    build_points_per_second: (2 * n) / buildSeconds,
    query_per_second: queryPerSecond,
    recall_at_10: recall10,
    ef_reference: res.efSearch.reference.ef,
    ef_candidate: res.efSearch.candidate.ef,
    self_recall_reference: res.efSearch.reference.recall,
    self_recall_candidate: res.efSearch.candidate.recall,
    tuned_query_per_second: tunedQueryPerSecond,
    tuned_recall_at_10: tunedRecall10,
    prdc_seconds: prdcSeconds,
    precision: res.precision.value,
    recall: res.recall.value,
    density: res.density.value,
    coverage: res.coverage.value,
    coverage_indicator_agreement: covAgree / covN,
    coverage_sample: covN,
    precision_indicator_agreement: ballsAgree / ballsN,
    sample_exact_precision: exactInManifold / ballsN,
    sample_wrongly_in: wronglyIn,
    sample_wrongly_out: ballsN - ballsAgree - wronglyIn,
    balls_mean_abs_error: ballsAbsError / ballsN,
    capped_balls: res.capped.referenceBalls + res.capped.candidateBalls,
    exact_balls: res.exactBalls.reference.counted + res.exactBalls.candidate.counted,
    exact_balls_shrunk: res.exactBalls.reference.shrunk + res.exactBalls.candidate.shrunk,
    unchecked_points: res.capped.uncheckedCandidates + res.capped.uncheckedReference,
    unreachable_points: res.unreachable.reference + res.unreachable.candidate,
    widened_points: res.widened.reference + res.widened.candidate,
    outliers_flagged: res.radiusOutliers.reference.flagged + res.radiusOutliers.candidate.flagged,
    outliers_corrected: res.radiusOutliers.reference.corrected + res.radiusOutliers.candidate.corrected,
    ...exact,
    peak_rss_mib: peakRssMiB(),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '10000,100000,1000000' },
      'exact-sample': { type: 'string', default: '300' },
      threads: { type: 'string', default: '2' },
      'index-dir': { type: 'string' },
      'index-recall': { type: 'string', default: String(DEFAULT_RECALL_TARGET.target) },
      child: { type: 'string' },
    },
  });
  if (values.child) {
    process.stdout.write(
      JSON.stringify(
        await one(
          Number(values.child),
          Number(values['exact-sample']),
          Number(values.threads),
          Number(values['index-recall']),
          values['index-dir'],
        ),
      ),
    );
    return;
  }
  const rows: Record<string, number>[] = [];
  for (const n of values.sizes!.split(',').map(Number)) {
    console.error(`coverage bench: N = ${n}`);
    const r = spawnSync(
      process.execPath,
      [
        '--max-old-space-size=16000',
        '--import',
        'tsx',
        fileURLToPath(import.meta.url),
        '--child',
        String(n),
        '--exact-sample',
        values['exact-sample']!,
        '--threads',
        values.threads!,
        '--index-recall',
        values['index-recall']!,
        ...(values['index-dir'] ? ['--index-dir', values['index-dir']] : []),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (r.status !== 0) throw new Error(`N = ${n} failed (exit ${r.status})`);
    rows.push(JSON.parse(r.stdout) as Record<string, number>);
  }
  const f = (x: number | undefined, d = 3) =>
    x === undefined ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: d });
  console.log(
    [
      '| N (ref = cand) | threads | index builds (pts/s, both) | query k=10 (q/s) | recall@10 | self-recall target | ef tuned (ref / cand) | self-recall@6 (ref / cand) | query k=10 at tuned ef (q/s) | recall@10 at tuned ef | PRDC wall (s) | precision | recall | density | coverage | exact precision / density / coverage | sample: covered = exact | sample: in manifold = exact (wrongly in / out) | sample: exact precision | sample: ball count error | capped balls | balls counted exactly / radius shrunk | widened / unreachable points | radius outliers: checked / corrected | peak RSS (MiB) |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows.map(
        (r) =>
          `| ${f(r.n, 0)} | ${f(r.threads, 0)} | ${f(r.build_points_per_second, 0)} | ${f(r.query_per_second, 0)} | ${f(r.recall_at_10)} | ${f(r.index_recall_target)} | ${f(r.ef_reference, 0)} / ${f(r.ef_candidate, 0)} | ${f(r.self_recall_reference)} / ${f(r.self_recall_candidate)} | ${f(r.tuned_query_per_second, 0)} | ${f(r.tuned_recall_at_10)} | ${f(r.prdc_seconds, 1)} | ${f(r.precision)} | ${f(r.recall)} | ${f(r.density)} | ${f(r.coverage)} | ${r.exact_precision === undefined ? '—' : `${f(r.exact_precision)} / ${f(r.exact_density)} / ${f(r.exact_coverage)}`} | ${f(r.coverage_indicator_agreement)} (${r.coverage_sample}) | ${f(r.precision_indicator_agreement)} (${f(r.sample_wrongly_in, 0)} / ${f(r.sample_wrongly_out, 0)}) | ${f(r.sample_exact_precision)} | ${f(r.balls_mean_abs_error)} | ${f(r.capped_balls, 0)} | ${f(r.exact_balls, 0)} / ${f(r.exact_balls_shrunk, 0)} | ${f(r.widened_points, 0)} / ${f(r.unreachable_points, 0)} | ${f(r.outliers_flagged, 0)} / ${f(r.outliers_corrected, 0)} | ${f(r.peak_rss_mib, 0)} |`,
      ),
    ].join('\n'),
  );
}

runIfMain(import.meta.url, main);
