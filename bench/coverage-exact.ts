/**
 * Coverage search bench (issue 19): exact search (blocked matrix products, exact/exact-prdc.ts) against HNSW (prdc.ts),
 * `auto`, and a plain exact computation in numpy (bench/coverage-exact-numpy.py: full distance matrices, as the prdc
 * package computes them), each in a child process of its own so that its peak RSS is its own, 2 threads each.
 *
 *   node --import tsx bench/coverage-exact.ts [--cases paper,mix20k,mix100k] [--runs 3] [--hnsw-runs 3]
 *     [--numpy-runs 3] [--large-runs 1] [--out bench/results/coverage-exact] [--dir DIR]     (PYTHON=python-with-numpy; default python3)
 *
 * Cases: `paper` = the prdc paper's example (10k vs 10k standard normals in 1000-d, k = 5, Euclidean); `mix20k`,
 * `mix100k` = the coverage bench's 256-d 64-cluster mixture (coverage-bench.ts; candidate without 4 clusters), cosine.
 * Times are the metric computation after loading (HNSW: both index builds and the prdc pass; auto: its choice
 * included); medians of the runs (at 100k and above at most --large-runs each). numpy runs where its N × N float64
 * matrices fit in memory. Below 100k also `tailguard coverage` itself, end to end under /usr/bin/time (node start,
 * loading, the metrics, per-document files, k-means regions, report.html), as a user runs it.
 * Writes OUT.json and OUT.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { freemem, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exactPrdc } from '../src/coverage/exact/exact-prdc.js';
import { TileRunner } from '../src/coverage/exact/tiles.js';
import { buildIndexPair } from '../src/coverage/workers/index-pair.js';
import { prdc } from '../src/coverage/hnsw/prdc.js';
import { afterDevice, chooseSearch, EXACT_WORK_BUDGET, exactWork } from '../src/coverage/search-choice.js';
import {
  loadComparable,
  loadVectors,
  sharedVectors,
  type DistanceMetric,
  type VectorSet,
} from '../src/coverage/vectors.js';
import { npyHeader } from '../src/io/npy-writer.js';
import { gaussian, mulberry32 } from '../src/random.js';
import { runIfMain } from '../scripts/lib/files.js';
import { mixture } from './coverage-bench.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const K = 5;
const THREADS = 2;
/** A Python with numpy (env PYTHON, else python3 on the PATH). */
const PYTHON = process.env.PYTHON ?? 'python3';

interface Case {
  name: string;
  n: number;
  dim: number;
  metric: DistanceMetric;
  describe: string;
  make(): [VectorSet, VectorSet];
}

const normals = (n: number, dim: number, seed: number): VectorSet => {
  const g = mulberry32(seed);
  const data = new Float32Array(n * dim);
  for (let i = 0; i < data.length; i++) data[i] = gaussian(g);
  return { source: 'normals', ids: Array.from({ length: n }, (_, i) => String(i)), dim, data };
};

const CASES: Record<string, Case> = {
  paper: {
    name: 'paper',
    n: 10_000,
    dim: 1000,
    metric: 'euclidean',
    describe: "10k vs 10k standard normals, 1000-d, Euclidean (the prdc paper's example)",
    make: () => [normals(10_000, 1000, 1), normals(10_000, 1000, 2)],
  },
  mix20k: {
    name: 'mix20k',
    n: 20_000,
    dim: 256,
    metric: 'cosine',
    describe: '20k vs 20k, 256-d mixture (coverage-bench.ts), cosine',
    make: () => [mixture(20_000, 0, 1), mixture(20_000, 4, 2)],
  },
  smoke: {
    name: 'smoke',
    n: 3000,
    dim: 64,
    metric: 'euclidean',
    describe: '3k vs 3k standard normals, 64-d (a check of the bench itself)',
    make: () => [normals(3000, 64, 1), normals(3000, 64, 2)],
  },
  mix100k: {
    name: 'mix100k',
    n: 100_000,
    dim: 256,
    metric: 'cosine',
    describe: '100k vs 100k, 256-d mixture, cosine',
    make: () => [mixture(100_000, 0, 1), mixture(100_000, 4, 2)],
  },
};

type Method = 'exact' | 'hnsw' | 'auto' | 'numpy64' | 'numpy32';

interface RunResult {
  precision: number;
  recall: number;
  density: number;
  coverage: number;
  seconds: number;
  peak_rss_mib: number;
  /** auto: what it chose. */
  used?: string;
  /** exact: pairs settled in float64, points searched again. */
  rechecked_pairs?: number;
  researched?: number;
}

function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function saveNpy(path: string, set: VectorSet): void {
  writeFileSync(
    path,
    Buffer.concat([
      Buffer.from(npyHeader(set.ids.length, set.dim)),
      Buffer.from(set.data.buffer, set.data.byteOffset, set.data.byteLength),
    ]),
  );
}

/** One run in this (child) process: load, time the computation. */
async function child(
  method: 'exact' | 'hnsw' | 'auto',
  refPath: string,
  candPath: string,
  metric: DistanceMetric,
): Promise<RunResult> {
  const ref = loadVectors(refPath, { metric });
  const cand = loadComparable(candPath, ref, { metric });
  const t0 = performance.now();
  let used: 'exact' | 'hnsw' = method === 'auto' ? 'exact' : method;
  let runner: TileRunner | undefined;
  if (method === 'auto') {
    const work = exactWork(ref.ids.length, cand.ids.length, ref.dim);
    let choice = chooseSearch('auto', [], work, false);
    if (choice === 'device') {
      runner = await TileRunner.start(['cpu'], THREADS);
      choice = afterDevice('auto', work, runner.device);
      if (choice.used === 'hnsw') await runner.release();
    }
    used = choice.used;
  }
  if (used === 'exact') {
    const r = await exactPrdc(ref, cand, { k: K, threads: THREADS, runner });
    if (runner) await runner.release();
    const { researched } = r.search;
    return {
      precision: r.precision.value,
      recall: r.recall.value,
      density: r.density.value,
      coverage: r.coverage.value,
      seconds: (performance.now() - t0) / 1000,
      peak_rss_mib: peakRssMiB(),
      used,
      rechecked_pairs: r.search.rechecked_pairs,
      researched: researched.reference_radii + researched.candidate_radii + researched.nearest_candidates,
    };
  }
  const pair = await buildIndexPair(sharedVectors(ref), sharedVectors(cand), { threads: THREADS });
  try {
    const r = await prdc(pair, { k: K });
    return {
      precision: r.precision.value,
      recall: r.recall.value,
      density: r.density.value,
      coverage: r.coverage.value,
      seconds: (performance.now() - t0) / 1000,
      peak_rss_mib: peakRssMiB(),
      used,
    };
  } finally {
    await pair.close();
  }
}

const env = {
  ...process.env,
  OMP_NUM_THREADS: String(THREADS),
  OPENBLAS_NUM_THREADS: String(THREADS),
  MKL_NUM_THREADS: String(THREADS),
};

function runChild(method: Method, c: Case, dir: string): RunResult {
  const [ref, cand] = [join(dir, `${c.name}-ref.npy`), join(dir, `${c.name}-cand.npy`)];
  const r = method.startsWith('numpy')
    ? spawnSync(
        PYTHON,
        [
          join(HERE, 'coverage-exact-numpy.py'),
          ref,
          cand,
          String(K),
          c.metric,
          method === 'numpy64' ? 'float64' : 'float32',
        ],
        { encoding: 'utf8', env, maxBuffer: 1 << 24 },
      )
    : spawnSync(
        process.execPath,
        [
          '--max-old-space-size=16000',
          '--import',
          'tsx',
          fileURLToPath(import.meta.url),
          '--child',
          method,
          '--ref',
          ref,
          '--cand',
          cand,
          '--metric',
          c.metric,
        ],
        { encoding: 'utf8', env, maxBuffer: 1 << 24, cwd: ROOT },
      );
  if (r.status !== 0) throw new Error(`${c.name} ${method} failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as RunResult;
}

/** The CLI as a user runs it, under /usr/bin/time -v: wall seconds, peak RSS, and the four metrics. */
function cliRun(c: Case, dir: string): Record<string, number | string> {
  const out = join(dir, `${c.name}-cli`);
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-v',
      process.execPath,
      '--import',
      'tsx',
      join(ROOT, 'src', 'cli', 'run.ts'),
      'coverage',
      '--reference',
      join(dir, `${c.name}-ref.npy`),
      '--candidate',
      join(dir, `${c.name}-cand.npy`),
      '--metric',
      c.metric,
      '--out',
      out,
      '--threads',
      String(THREADS),
      '--quiet',
    ],
    { encoding: 'utf8', env, cwd: ROOT },
  );
  if (r.status !== 0) throw new Error(`CLI run failed: ${r.stderr.slice(-2000)}`);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr)!;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)!;
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
    precision: { value: number };
    recall: { value: number };
    density: { value: number };
    coverage: { value: number };
    search: { used: string; reason: string };
  };
  return {
    seconds: Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]),
    peak_rss_mib: Number(rss[1]) / 1024,
    precision: report.precision.value,
    recall: report.recall.value,
    density: report.density.value,
    coverage: report.coverage.value,
    search: `${report.search.used} (${report.search.reason})`,
  };
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function machine(): Record<string, string> {
  const lscpu = spawnSync('lscpu', [], { encoding: 'utf8' }).stdout;
  const model = /Model name:\s+(.+)/.exec(lscpu)?.[1]?.trim() ?? 'unknown';
  const cpus = /^CPU\(s\):\s+(\d+)/m.exec(lscpu)?.[1] ?? '?';
  const py = spawnSync(PYTHON, ['-c', 'import numpy, sys; print(numpy.__version__, sys.version.split()[0])'], {
    encoding: 'utf8',
  })
    .stdout.trim()
    .split(' ');
  const ort = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')) as {
    version: string;
  };
  return {
    cpu: `${model}, ${cpus} CPUs`,
    memory: `${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    node: process.version,
    onnxruntime_node: ort.version,
    numpy: py[0] ?? '?',
    python: py[1] ?? '?',
    date: new Date().toISOString(),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string', default: 'paper,mix20k,mix100k' },
      runs: { type: 'string', default: '3' },
      'hnsw-runs': { type: 'string', default: '3' },
      'numpy-runs': { type: 'string', default: '3' },
      'large-runs': { type: 'string', default: '1' },
      out: { type: 'string', default: join(HERE, 'results', 'coverage-exact') },
      dir: { type: 'string' },
      child: { type: 'string' },
      ref: { type: 'string' },
      cand: { type: 'string' },
      metric: { type: 'string' },
    },
  });
  if (values.child) {
    process.stdout.write(
      `${JSON.stringify(await child(values.child as 'exact' | 'hnsw' | 'auto', values.ref!, values.cand!, values.metric as DistanceMetric))}\n`,
    );
    return;
  }
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'tailguard-exact-bench-'));
  mkdirSync(dir, { recursive: true });
  const results: Record<string, unknown>[] = [];
  const log = (s: string) => console.error(`[${new Date().toISOString()}] ${s}`);
  for (const name of values.cases!.split(',')) {
    const c = CASES[name];
    if (!c) throw new Error(`unknown case ${name}`);
    if (!existsSync(join(dir, `${c.name}-cand.npy`))) {
      const [ref, cand] = c.make();
      saveNpy(join(dir, `${c.name}-ref.npy`), ref);
      saveNpy(join(dir, `${c.name}-cand.npy`), cand);
    }
    const work = exactWork(c.n, c.n, c.dim);
    // numpy's float64 matrices: three of N × N at 8 bytes, argpartition's int64 copy of one, with room to spare.
    const numpyFits = (bytes: number) => 4 * c.n * c.n * bytes < 0.8 * freemem();
    const large = c.n >= 100_000;
    const runs = (flag: string) =>
      large ? Math.min(Number(values[flag as 'runs']), Number(values['large-runs'])) : Number(values[flag as 'runs']);
    const plan: [Method, number][] = [
      ['exact', runs('runs')],
      ['auto', runs('runs')],
      ['hnsw', runs('hnsw-runs')],
    ];
    if (numpyFits(8)) plan.push(['numpy64', runs('numpy-runs')]);
    if (numpyFits(4)) plan.push(['numpy32', runs('numpy-runs')]);
    for (const [method, runs] of plan) {
      if (!runs) continue;
      const rows: RunResult[] = [];
      for (let t = 0; t < runs; t++) {
        log(`${c.name} ${method} run ${t + 1}/${runs}`);
        rows.push(runChild(method, c, dir));
        log(`  ${rows.at(-1)!.seconds.toFixed(1)} s, ${rows.at(-1)!.peak_rss_mib.toFixed(0)} MiB`);
      }
      const last = rows.at(-1)!;
      results.push({
        case: c.name,
        describe: c.describe,
        n: c.n,
        dim: c.dim,
        metric: c.metric,
        method,
        runs,
        work,
        seconds_median: median(rows.map((r) => r.seconds)),
        seconds_all: rows.map((r) => r.seconds),
        peak_rss_mib: Math.max(...rows.map((r) => r.peak_rss_mib)),
        precision: last.precision,
        recall: last.recall,
        density: last.density,
        coverage: last.coverage,
        ...(last.used ? { used: last.used } : {}),
        ...(last.rechecked_pairs !== undefined
          ? { rechecked_pairs: last.rechecked_pairs, researched: last.researched }
          : {}),
      });
    }
    if (!large) {
      const cli: Record<string, number | string>[] = [];
      for (let t = 0; t < runs('runs'); t++) {
        log(`${c.name} CLI run ${t + 1}: tailguard coverage --metric ${c.metric}`);
        cli.push(cliRun(c, dir));
        log(`  ${(cli.at(-1)!.seconds as number).toFixed(1)} s`);
      }
      const seconds = cli.map((r) => r.seconds as number);
      results.push({
        case: c.name,
        describe: c.describe,
        n: c.n,
        dim: c.dim,
        metric: c.metric,
        method: 'cli',
        runs: cli.length,
        work,
        ...cli.at(-1)!,
        seconds_median: median(seconds),
        seconds_all: seconds,
        peak_rss_mib: Math.max(...cli.map((r) => r.peak_rss_mib as number)),
      });
    }
  }
  const doc = { machine: machine(), k: K, threads: THREADS, exact_work_budget: EXACT_WORK_BUDGET, results };
  mkdirSync(dirname(values.out!), { recursive: true });
  writeFileSync(`${values.out}.json`, `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(`${values.out}.md`, markdown(doc));
  log(`wrote ${values.out}.json and .md`);
}

/**
 * 1M × 1M at 256-d, extrapolated (not run): exact from its throughput (work per second) in the largest case measured,
 * numpy from its time per pair in the largest case it ran (its matrices would not fit), HNSW as measured earlier.
 */
function extrapolation(results: Record<string, unknown>[]): string[] {
  const largest = (method: string) =>
    results.filter((r) => r.method === method).sort((a, b) => (b.n as number) - (a.n as number))[0];
  const n = 1_000_000;
  const work = exactWork(n, n, 256);
  const lines = ['', '## 1M × 1M, 256-d: an extrapolation, not a run', ''];
  const ex = largest('exact');
  if (ex) {
    const rate = (ex.work as number) / (ex.seconds_median as number);
    lines.push(
      `- exact: ${(rate / 1e9).toFixed(1)}·10⁹ pair-dimensions/s at ${ex.case} → ${(work / 1e12).toFixed(0)}·10¹² for 1M × 1M ≈ ${(work / rate / 3600).toFixed(1)} h, memory O((N+M)·k + tile²) beyond the rows (2 GB): about 3 GB in all.`,
    );
  }
  const np = largest('numpy64');
  if (np) {
    const pairs = (m: number) => 3 * m * m;
    const hours = ((np.seconds_median as number) * pairs(n)) / pairs(np.n as number) / 3600;
    lines.push(
      `- numpy (float64, full matrices): ${hours.toFixed(0)} h if memory allowed, from ${np.case}; it would need three 1M × 1M float64 matrices, 8 TB each.`,
    );
  }
  lines.push(
    '- HNSW: measured before (bench/RESULTS.md, 1M, ef tuned to 800): 132 min for the metric pass plus about 24 min of index builds, 5.3 GB peak.',
  );
  return lines;
}

function markdown(doc: { machine: Record<string, string>; results: Record<string, unknown>[] }): string {
  const f = (x: unknown, d = 3) =>
    typeof x === 'number' ? x.toLocaleString('en-US', { maximumFractionDigits: d }) : String(x ?? '—');
  const rows = doc.results.map(
    (r) =>
      `| ${r.case} | ${r.method}${r.used && r.method === 'auto' ? ` → ${r.used}` : ''}${typeof r.search === 'string' ? ` → ${r.search.split(' ')[0]}` : ''} | ${f(r.runs, 0)} | ${f(r.seconds_median ?? r.seconds, 1)} | ${Array.isArray(r.seconds_all) ? (r.seconds_all as number[]).map((s) => s.toFixed(1)).join(', ') : '—'} | ${f(r.peak_rss_mib, 0)} | ${f(r.precision)} | ${f(r.recall)} | ${f(r.density)} | ${f(r.coverage)} |`,
  );
  return [
    '# Coverage: exact search vs HNSW vs numpy',
    '',
    `Machine: ${doc.machine.cpu}, ${doc.machine.memory}; node ${doc.machine.node}, onnxruntime-node ${doc.machine.onnxruntime_node}, numpy ${doc.machine.numpy} (Python ${doc.machine.python}); ${doc.machine.date}.`,
    'Generated by `node --import tsx bench/coverage-exact.ts`; every method with 2 threads; seconds = the metric computation after loading (median of the runs).',
    '',
    'cli = `tailguard coverage --metric M` end to end (process start to exit, /usr/bin/time), k-means regions and report.html included.',
    'The 2 cores are shared with other work: a run can take up to twice its median; compare medians, and rows run close in time.',
    '',
    '| case | method | runs | seconds (median) | seconds (each) | peak RSS (MiB) | precision | recall | density | coverage |',
    '| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    ...extrapolation(doc.results),
    '',
  ].join('\n');
}

runIfMain(import.meta.url, main);
