/**
 * Scoring throughput bench (CPU). `npm run bench [-- flags]` = `node --import tsx bench/score-throughput.ts [flags]`.
 *
 *   1. stories260k, scoreCorpus over a fixed slice of the human held-out corpus: batch size × inference workers.
 *   2. In-process baselines on the same slice (bench/baselines.ts): the naive one-document-at-a-time scorer that
 *      copies the logits into JS, the engine's batches with logits in JS, the engine's scoreChunk without the pipeline.
 *   3. The same on a random-weight Llama of realistic size (bench/random-llama.ts), on a smaller slice.
 *   4. Peak RSS (VmHWM) of scoreCorpus over 500 vs 5,000 documents (and 500 repeated 10×), and of the random Llama
 *      at two batch sizes, each run in its own child process (bench/mem-driver.ts).
 *
 * Every throughput cell is the median of --repeats runs (min–max alongside). Within a model's section each repeat runs
 * every cell once, in an order rotated between repeats, and ratios to the naive baseline are medians of same-repeat
 * ratios, so that slow phases of a shared machine do not land on one cell. Prints markdown to stdout, progress to
 * stderr; full runs (or --results PATH) write the tables into bench/RESULTS.md between the `<!-- bench:begin -->` /
 * `<!-- bench:end -->` markers and keep the hand-written text around them. Nothing here is part of the test suite.
 *
 * Flags: --quick (1 repeat, small slices, writes no RESULTS.md), --repeats N, --docs N, --max-chars N, --chunk-docs N,
 *        --big-docs N, --big-max-chars N, --big-chunk-docs N, --mem-docs A,B, --mem-max-chars N, --skip-big, --skip-mem,
 *        --results PATH, --no-results, --keep-tmp.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { scoreCorpus } from '../src/index.js';
import { bucketByLength, type WindowJob } from '../src/lm/batch.js';
import { readModelSpec } from '../src/lm/model-config.js';
import { loadTokenizer } from '../src/lm/tokenizer.js';
import { planWindows } from '../src/lm/windows.js';
import { lmSignals, type LmSignals } from '../src/signals/lm-signals.js';
import {
  batchedJsScore,
  inGraphScore,
  naiveScore,
  type BaselineOptions,
  type BaselineResult,
  type DocSums,
} from './baselines.js';
import { BENCH_LLAMA, writeRandomLlama } from './random-llama.js';
import { benchCommit } from './lib/machine.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const CORPUS_DIR = resolve(ROOT, '..', 'shared', 'corpora', 'human');
const HELDOUT = join(CORPUS_DIR, 'heldout.jsonl');
const STORIES = join(ROOT, 'models', 'stories260k');

// ---------------------------------------------------------------------------------------------- options

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    repeats: { type: 'string' },
    docs: { type: 'string' },
    'max-chars': { type: 'string' },
    'big-docs': { type: 'string' },
    'big-max-chars': { type: 'string' },
    'chunk-docs': { type: 'string' },
    'big-chunk-docs': { type: 'string' },
    'mem-docs': { type: 'string' },
    'mem-max-chars': { type: 'string' },
    'skip-big': { type: 'boolean', default: false },
    'skip-mem': { type: 'boolean', default: false },
    results: { type: 'string' },
    'no-results': { type: 'boolean', default: false },
    'keep-tmp': { type: 'boolean', default: false },
  },
  strict: true,
});
const quick = flags.quick!;
const int = (v: string | undefined, d: number): number => (v === undefined ? d : Number.parseInt(v, 10));
const OPT = {
  repeats: int(flags.repeats, quick ? 1 : 3),
  docs: int(flags.docs, quick ? 64 : 256),
  maxChars: int(flags['max-chars'], 600),
  /** Documents per chunk handed to a worker; slices hold several chunks per worker so that 2 workers both get work. */
  chunkDocs: int(flags['chunk-docs'], 64),
  bigDocs: int(flags['big-docs'], quick ? 16 : 64),
  bigMaxChars: int(flags['big-max-chars'], 400),
  bigChunkDocs: int(flags['big-chunk-docs'], 16),
  memDocs: (flags['mem-docs'] ?? (quick ? '100,1000' : '500,5000')).split(',').map((s) => Number.parseInt(s, 10)),
  memMaxChars: int(flags['mem-max-chars'], 300),
  skipBig: flags['skip-big']!,
  skipMem: flags['skip-mem']!,
};
const resultsPath = flags['no-results']
  ? null
  : flags.results
    ? resolve(flags.results)
    : quick
      ? null
      : join(HERE, 'RESULTS.md');
const CORES = availableParallelism();
const BATCHES = [1, 4, 16, 32];
const WORKERS = [1, 2];
const BIG_BATCHES = [4, 16];

const TMP = mkdtempSync(join(tmpdir(), 'tailguard-bench-'));
const log = (msg: string): void =>
  void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---------------------------------------------------------------------------------------------- helpers

interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
}
function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median: m, min: s[0]!, max: s[s.length - 1]!, n: s.length };
}
const fmt = (x: number, digits = 0): string =>
  x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const fmtStat = (s: Stat): string =>
  s.n > 1 ? `**${fmt(s.median)}** (${fmt(s.min)}–${fmt(s.max)})` : `**${fmt(s.median)}**`;
const ratio = (r: number): string => `${r.toFixed(2)}×`;
function table(head: string[], rows: string[][], align?: string[]): string {
  const al = align ?? head.map((_, i) => (i === 0 ? ':--' : '--:'));
  return [`| ${head.join(' | ')} |`, `| ${al.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

async function readJsonlTexts(path: string, n: number): Promise<{ id: string; text: string }[]> {
  const input = path.endsWith('.gz') ? createReadStream(path).pipe(createGunzip()) : createReadStream(path);
  const rl = createInterface({ input, crlfDelay: Infinity });
  const out: { id: string; text: string }[] = [];
  for await (const line of rl) {
    if (!line.trim()) continue;
    const o = JSON.parse(line) as { id?: unknown; text: string };
    out.push({ id: String(o.id ?? out.length), text: o.text });
    if (out.length >= n) break;
  }
  rl.close();
  input.destroy();
  return out;
}

interface Slice {
  path: string;
  texts: string[];
  docs: number;
  chars: number;
  maxChars: number;
  source: string;
}
function writeSlice(name: string, docs: { id: string; text: string }[], maxChars: number, source: string): Slice {
  // Cut on a code point boundary so the JSON stays valid UTF-8 text.
  const texts = docs.map((d) => Array.from(d.text).slice(0, maxChars).join(''));
  const path = join(TMP, `${name}.jsonl`);
  writeFileSync(path, texts.map((t, i) => JSON.stringify({ id: docs[i]!.id, text: t })).join('\n') + '\n');
  return { path, texts, docs: texts.length, chars: texts.reduce((a, t) => a + t.length, 0), maxChars, source };
}

function machine(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
  let model = cpus()[0]?.model ?? 'unknown';
  let details = '';
  try {
    const ls = execFileSync('lscpu', { encoding: 'utf8' });
    const field = (name: string): string | undefined => new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(ls)?.[1]?.trim();
    model = field('Model name') ?? model;
    const flagsLine = field('Flags') ?? '';
    const simd = ['avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx512_bf16'].filter((f) =>
      flagsLine.split(' ').includes(f),
    );
    details = [
      `family ${field('CPU family') ?? '?'} model ${field('Model') ?? '?'}`,
      field('Hypervisor vendor') ? `${field('Hypervisor vendor')} guest` : '',
      simd.join(' '),
    ]
      .filter(Boolean)
      .join(', ');
  } catch {
    /* lscpu missing: keep os.cpus() */
  }
  const commit = benchCommit(ROOT);
  return {
    cpu: model,
    'cpu details (lscpu)': details || 'unknown',
    cores: `${CORES} (nproc / availableParallelism)`,
    memory: `${Math.round(Number(readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s+(\d+)/)?.[1] ?? 0) / 2 ** 20)} GiB`,
    node: process.version,
    'onnxruntime-node': ortVersion,
    commit,
    date: new Date().toISOString(),
    'load average at start': loadavg()
      .map((x) => x.toFixed(2))
      .join(' / '),
  };
}

// ---------------------------------------------------------------------------------------------- engine runs

interface EngineRun {
  tokens: number;
  /** Own clock around scoreCorpus: worker spawn, model load + augmentation, tokenization, inference, output files. */
  wallTps: number;
  /** summary.tokens / summary.wall_seconds (scoreCorpus's own clock, also from its entry). */
  summaryTps: number;
  /** Seconds from the call to the first session reporting ready (onStart). */
  readySeconds: number;
  /** Tokens / (end − first session ready). With 2 workers the second session still starts inside this span. */
  afterReadyTps: number;
}

async function runEngine(
  input: string,
  model: string,
  batchSize: number,
  workers: number,
  chunkDocs: number,
  keepOut?: string,
): Promise<EngineRun> {
  const out = keepOut ?? mkdtempSync(join(TMP, 'out-'));
  const t0 = performance.now();
  let ready = t0;
  const summary = await scoreCorpus({
    input,
    out,
    model,
    device: 'cpu',
    batchSize,
    workers,
    threads: Math.max(1, Math.floor(CORES / workers)),
    chunkDocs,
    overwrite: true,
    onStart: () => {
      ready = performance.now();
    },
  });
  const t1 = performance.now();
  if (summary.counts.errors > 0) throw new Error(`engine run had ${summary.counts.errors} errors (${out})`);
  if (!keepOut) rmSync(out, { recursive: true, force: true });
  return {
    tokens: summary.tokens,
    wallTps: summary.tokens / ((t1 - t0) / 1000),
    summaryTps: summary.tokens / summary.wall_seconds,
    readySeconds: (ready - t0) / 1000,
    afterReadyTps: summary.tokens / ((t1 - ready) / 1000),
  };
}

// ---------------------------------------------------------------------------------------------- cells

interface Baseline {
  key: string;
  label: string;
  batching: string;
  reductions: string;
  fn: (t: string[], o: BaselineOptions) => Promise<BaselineResult>;
  maxBatch: number;
}

const NAIVE: Baseline = {
  key: 'naive',
  label: 'naive: 1 doc at a time, logits → JS',
  batching: 'none (1 window / run)',
  reductions: 'JS (logits copied out)',
  fn: naiveScore,
  maxBatch: 1,
};
const inGraph = (b: number): Baseline => ({
  key: `inGraph${b}`,
  label: `scoreChunk in-process, batch ${b}`,
  batching: b === 1 ? 'none (1 window / run)' : `bucketByLength, ≤${b}`,
  reductions: 'in graph',
  fn: inGraphScore,
  maxBatch: b,
});
const batchedJs = (b: number): Baseline => ({
  key: `batchedJs${b}`,
  label: `engine batches ≤${b}, logits → JS`,
  batching: `bucketByLength, ≤${b}`,
  reductions: 'JS (logits copied out)',
  fn: batchedJsScore,
  maxBatch: b,
});

type Cell =
  | { kind: 'engine'; batch: number; workers: number; runs: EngineRun[] }
  | { kind: 'baseline'; b: Baseline; runs: BaselineResult[] };

const tpsOf = (c: Cell, i: number): number =>
  c.kind === 'engine' ? c.runs[i]!.wallTps : c.runs[i]!.tokens / c.runs[i]!.wallSeconds;
const wallStat = (c: Cell): Stat => stat(c.runs.map((_, i) => tpsOf(c, i)));
/** Median over repeats of (this cell / naive) in the same repeat: robust to slow phases of the machine. */
const ratioToNaive = (c: Cell, naive: Cell): number => stat(c.runs.map((_, i) => tpsOf(c, i) / tpsOf(naive, i))).median;

interface Section {
  cells: Cell[];
  naive: Cell;
  engineOut: string;
}

/**
 * Runs every cell of a model's section `repeats` times. Each repeat runs every cell once, in an order rotated from
 * one repeat to the next, so that a slow phase of the shared machine lands on different cells in different repeats
 * and each repeat's naive run is a same-period reference for that repeat's ratios.
 */
async function runSection(
  label: string,
  slice: Slice,
  model: string,
  chunkDocs: number,
  batches: number[],
  workers: number[],
  base: Baseline[],
): Promise<Section> {
  const cells: Cell[] = [
    ...batches.flatMap((b) => workers.map((w): Cell => ({ kind: 'engine', batch: b, workers: w, runs: [] }))),
    ...base.map((b): Cell => ({ kind: 'baseline', b, runs: [] })),
  ];
  const engineOut = join(TMP, `engine-keep-${label}`);
  for (let r = 0; r < OPT.repeats; r++) {
    const shift = Math.floor((r * cells.length) / OPT.repeats);
    const order = cells.map((_, i) => cells[(i + shift) % cells.length]!);
    for (const c of order) {
      if (c.kind === 'engine') {
        // One run of the default cell keeps its output for the cross-check against the baselines.
        const keep = c.runs.length === 0 && c.batch === 16 && c.workers === 1 ? engineOut : undefined;
        const run = await runEngine(slice.path, model, c.batch, c.workers, chunkDocs, keep);
        c.runs.push(run);
        log(
          `${label} rep ${r + 1}/${OPT.repeats} engine b${c.batch} w${c.workers}: ${fmt(run.wallTps)} tok/s wall (${fmt(run.tokens)} tokens)`,
        );
      } else {
        const res = await c.b.fn(slice.texts, {
          modelDir: model,
          onnxPath: join(model, 'onnx', 'model.onnx'),
          threads: CORES,
          maxBatch: c.b.maxBatch,
          chunkDocs,
        });
        c.runs.push(res);
        log(`${label} rep ${r + 1}/${OPT.repeats} ${c.b.key}: ${fmt(res.tokens / res.wallSeconds)} tok/s wall`);
      }
    }
  }
  const naive = cells.find((c) => c.kind === 'baseline' && c.b.key === 'naive')!;
  return { cells, naive, engineOut };
}

const engineCells = (s: Section): Extract<Cell, { kind: 'engine' }>[] =>
  s.cells.filter((c): c is Extract<Cell, { kind: 'engine' }> => c.kind === 'engine');
const baselineCells = (s: Section): Extract<Cell, { kind: 'baseline' }>[] =>
  s.cells.filter((c): c is Extract<Cell, { kind: 'baseline' }> => c.kind === 'baseline');
const bestEngine = (s: Section): Extract<Cell, { kind: 'engine' }> =>
  engineCells(s).reduce((a, b) => (wallStat(b).median > wallStat(a).median ? b : a));

// ---------------------------------------------------------------------------------------------- cross-check

const SIGNALS = ['mean_nll', 'mean_entropy', 'mean_log_rank', 'fast_detect'] as const;

function crossCheck(s: Section): string {
  const engine = readFileSync(join(s.engineOut, 'scores.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as LmSignals);
  const rows = baselineCells(s).map(({ b, runs: [first] }) => {
    const docs: DocSums[] = first!.docs;
    const worst: Record<string, number> = {};
    let tokensEqual = docs.length === engine.length;
    docs.forEach((d, i) => {
      const e = engine[i]!;
      if (d.tokens !== e.tokens) tokensEqual = false;
      const sig = lmSignals(d);
      for (const k of SIGNALS) worst[k] = Math.max(worst[k] ?? 0, Math.abs(sig[k] - e[k]));
    });
    return [b.label, tokensEqual ? 'yes' : '**NO**', ...SIGNALS.map((k) => (worst[k] ?? NaN).toExponential(1))];
  });
  return (
    `Cross-check, so that the speed comparison is between paths that compute the same thing: each baseline's first run vs the engine's \`scores.jsonl\` (batch 16, 1 worker), largest |difference| over documents:\n\n` +
    table(['method', 'same token counts', ...SIGNALS], rows)
  );
}

// ---------------------------------------------------------------------------------------------- reporting

const NOTE_ENGINE_CLOCKS =
  `- *own wall clock (main)*: tokens / seconds around the whole \`scoreCorpus\` call — worker spawn (the workers load tsx, since the bench runs from source), model read + graph augmentation + session creation, tokenization, inference, writing scores/embeddings/run.json. Nothing excluded.\n` +
  `- *summary*: \`summary.tokens / summary.wall_seconds\` (scoreCorpus's own clock, which also starts at its entry, so it is ≈ the main number).\n` +
  `- *after first session ready*: tokens / time from \`onStart\` (the first worker's session is up) to the end — informative only; with 2 workers the second session still starts inside it.\n` +
  `- *vs naive*: median over repeats of (this cell ÷ the naive baseline run in the same repeat), from the main numbers.`;

function gridTable(s: Section): string {
  return table(
    [
      'batch',
      'workers',
      'threads / session',
      'tok/s, own wall clock (main)',
      'tok/s, summary',
      'first session ready (s)',
      'tok/s after first session ready',
      'vs naive',
    ],
    engineCells(s).map((c) => [
      String(c.batch),
      String(c.workers),
      String(Math.max(1, Math.floor(CORES / c.workers))),
      fmtStat(wallStat(c)),
      fmt(stat(c.runs.map((r) => r.summaryTps)).median),
      stat(c.runs.map((r) => r.readySeconds)).median.toFixed(2),
      fmt(stat(c.runs.map((r) => r.afterReadyTps)).median),
      ratio(ratioToNaive(c, s.naive)),
    ]),
  );
}

function baselineTable(s: Section): string {
  const rows = baselineCells(s).map((c) => [
    c.b.label,
    c.b.batching,
    c.b.reductions,
    'no',
    fmtStat(wallStat(c)),
    fmt(stat(c.runs.map((r) => r.tokens / r.loopSeconds)).median),
    ratio(ratioToNaive(c, s.naive)),
  ]);
  const best = bestEngine(s);
  const dflt = engineCells(s).find((c) => c.batch === 16 && c.workers === 1);
  for (const [what, c] of [
    ['best cell', best],
    ['default batch, 1 worker', dflt],
  ] as const) {
    if (!c || (what !== 'best cell' && c === best)) continue;
    rows.push([
      `**engine** scoreCorpus, batch ${c.batch}, ${c.workers} worker${c.workers > 1 ? 's' : ''} (${what})`,
      `bucketByLength, ≤${c.batch}`,
      'in graph',
      `yes`,
      fmtStat(wallStat(c)),
      fmt(stat(c.runs.map((r) => r.afterReadyTps)).median),
      ratio(ratioToNaive(c, s.naive)),
    ]);
  }
  return table(
    [
      'method',
      'batching',
      'per-token reductions',
      'worker pipeline',
      'tok/s, wall (main)',
      'tok/s excl. setup',
      'vs naive',
    ],
    rows,
    [':--', ':--', ':--', ':--', '--:', '--:', '--:'],
  );
}

const NOTE_BASELINES =
  `The baselines run on the bench's main thread with one session of ${CORES} intra-op threads and no pipeline: tokenize a chunk (or a document), run it, reduce. ` +
  `*wall* includes tokenizer load and session creation (for the in-graph ones that includes the graph augmentation); *excl. setup* starts once the session is ready ` +
  `(for the engine rows: after the first session is ready). The naive baseline and "logits → JS" compute no embedding (the unaugmented graph does not expose the hidden state), so they do slightly less work than the in-graph paths.`;

// ---------------------------------------------------------------------------------------------- memory

interface MemResult {
  docs: number;
  tokens: number;
  seconds: number;
  maxRssMiB: number;
  vmHwmMiB: number | null;
  rssFirst10pctMiB: number | null;
  rssLast10pctMiB: number | null;
}
const fmtMiB = (x: number | null): string => (x === null ? '–' : fmt(x));
const memStat = (xs: (number | null)[]): string => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? fmtStat(stat(v)) : '–';
};

function memRun(
  input: string,
  model: string,
  batchSize: number,
  workers: number,
  chunkDocs: number,
  docs: number,
): MemResult {
  const out = mkdtempSync(join(TMP, 'mem-out-'));
  const args = JSON.stringify({
    input,
    out,
    model,
    batchSize,
    workers,
    threads: Math.max(1, Math.floor(CORES / workers)),
    chunkDocs,
    docs,
  });
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(HERE, 'mem-driver.ts'), args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`mem-driver failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as MemResult;
}

/** The largest padded batch (rows × longest row) the engine will build for these texts, replaying its chunking and bucketing. */
function largestBatch(
  texts: string[],
  modelDir: string,
  maxBatch: number,
  chunkDocs: number,
  maxTokens = 8192,
): { rows: number; seqLen: number } {
  const spec = readModelSpec(modelDir);
  const tok = loadTokenizer(modelDir, spec);
  const context = spec.contextLength;
  const stride = Math.max(1, Math.floor(context / 2));
  let best = { rows: 0, seqLen: 0 };
  for (let i = 0; i < texts.length; i += chunkDocs) {
    const jobs: WindowJob[] = [];
    texts.slice(i, i + chunkDocs).forEach((t, d) => {
      const ids = Int32Array.from([tok.documentStartId, ...tok.encode(t)]);
      for (const window of planWindows(ids.length, context, stride)) jobs.push({ doc: d, ids, window });
    });
    for (const batch of bucketByLength(jobs, { maxBatch, maxTokens })) {
      const seqLen = Math.max(...batch.map((j) => j.window.end - j.window.start));
      if (batch.length * seqLen > best.rows * best.seqLen) best = { rows: batch.length, seqLen };
    }
  }
  return best;
}

/** The engine hands a worker whole chunks: with fewer than two chunks per worker, a second worker mostly idles. */
function chunkNote(docs: number, chunkDocs: number): string {
  const chunks = Math.ceil(docs / chunkDocs);
  const maxWorkers = Math.max(...WORKERS);
  return chunks >= 2 * maxWorkers
    ? `chunkDocs ${chunkDocs} (${chunks} chunks: at least 2 per worker, so that ${maxWorkers} workers both get work)`
    : `chunkDocs ${chunkDocs} (**only ${chunks} chunk${chunks > 1 ? 's' : ''}: with ${maxWorkers} workers one of them idles, so the ${maxWorkers}-worker cells mean little here**)`;
}

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const startedAt = performance.now();
  const env = machine();
  log(`tmp ${TMP}; ${JSON.stringify(OPT)}`);
  const md: string[] = [];
  const out = (s: string): void => {
    md.push(s);
    process.stdout.write(`${s}\n\n`);
  };

  out(
    `## Machine and settings\n\n${table(
      ['', ''],
      Object.entries(env).map(([k, v]) => [k, v]),
      [':--', ':--'],
    )}`,
  );
  out(
    `${OPT.repeats} repeat(s) per cell: **median** in bold, min–max in parentheses. Within a model's section every repeat runs every cell once ` +
      `(order rotated between repeats). Threads per session = floor(${CORES} / workers); device cpu; other scoreCorpus options at their defaults ` +
      `(maxBatchTokens 8192, 1 tokenizer worker, context = the model's, stride = context / 2). Every engine run writes to a fresh temporary --out.`,
  );

  // ---- 1 + 2: stories260k
  const heldout = await readJsonlTexts(HELDOUT, Math.max(OPT.docs, OPT.bigDocs));
  const slice = writeSlice('stories-slice', heldout.slice(0, OPT.docs), OPT.maxChars, HELDOUT);
  log(`stories260k slice: ${slice.docs} docs, ≤${slice.maxChars} chars each`);
  const small = await runSection('stories260k', slice, STORIES, OPT.chunkDocs, BATCHES, WORKERS, [
    NAIVE,
    inGraph(1),
    batchedJs(16),
    inGraph(16),
  ]);
  const smallTokens = engineCells(small)[0]!.runs[0]!.tokens;
  out(
    `## 1. stories260k (vocab 512, 260K parameters): batch size × inference workers\n\n` +
      `Slice: the first ${slice.docs} documents of \`heldout.jsonl\`, each cut to ${slice.maxChars} characters ` +
      `(${fmt(slice.chars)} characters, **${fmt(smallTokens)} scored tokens** per run), ${chunkNote(slice.docs, OPT.chunkDocs)}.\n\n${NOTE_ENGINE_CLOCKS}\n\n${gridTable(small)}`,
  );
  out(
    `## 2. stories260k: in-process baselines vs the engine\n\nSame slice, same repeats. ${NOTE_BASELINES}\n\n${baselineTable(small)}\n\n${crossCheck(small)}`,
  );

  // ---- 3: random-weight Llama
  let bigDir: string | null = null;
  let bigSlice: Slice | null = null;
  if (!OPT.skipBig) {
    bigDir = join(TMP, 'random-llama');
    const tg = performance.now();
    const info = writeRandomLlama(bigDir, BENCH_LLAMA, STORIES);
    const genSeconds = (performance.now() - tg) / 1000;
    log(
      `random Llama: ${fmt(info.params)} params, ${fmt(info.onnxBytes / 2 ** 20, 1)} MiB ONNX, ${genSeconds.toFixed(1)} s`,
    );
    bigSlice = writeSlice('big-slice', heldout.slice(0, OPT.bigDocs), OPT.bigMaxChars, HELDOUT);
    const big = await runSection('random-llama', bigSlice, bigDir, OPT.bigChunkDocs, BIG_BATCHES, WORKERS, [
      NAIVE,
      inGraph(1),
      ...BIG_BATCHES.flatMap((b) => [batchedJs(b), inGraph(b)]),
    ]);
    const bigTokens = engineCells(big)[0]!.runs[0]!.tokens;
    const s = BENCH_LLAMA;
    out(
      `## 3. Random-weight Llama of realistic size\n\n` +
        `Written by \`bench/random-llama.ts\` (${genSeconds.toFixed(1)} s) with the project's Llama ONNX builder (\`scripts/lib/llama-onnx.ts\`): hidden ${s.hidden}, ${s.layers} layers, ${s.heads} heads, ` +
        `${s.kvHeads} KV heads, intermediate ${s.intermediate}, vocabulary ${fmt(s.vocab)}, context ${s.context}, tied classifier: **${(info.params / 1e6).toFixed(1)} M parameters**, ` +
        `${fmt(info.onnxBytes / 2 ** 20)} MiB fp32 ONNX (the tied matrix is stored twice, as the embedding and as the transposed lm_head). Weights N(0, 0.02) (norms 1) from a seeded PRNG (seed ${s.seed}): ` +
        `the scores are meaningless, the cost per token is that of a real fp32 model of this shape. Tokenizer: a copy of stories260k's; its ids are all < 512 and therefore valid rows of a ${fmt(s.vocab)}-token vocabulary ` +
        `(only the first 512 embedding rows are ever looked up, but the logits span all ${fmt(s.vocab)} entries, which is what copying them out costs).\n\n` +
        `Slice: the first ${bigSlice.docs} documents of \`heldout.jsonl\`, each cut to ${bigSlice.maxChars} characters (**${fmt(bigTokens)} scored tokens** per run), ${chunkNote(bigSlice.docs, OPT.bigChunkDocs)}; the in-process batched baselines use the same chunks.\n\n` +
        `### 3a. Engine grid\n\n${gridTable(big)}\n\n` +
        `### 3b/3c. Baselines vs the engine\n\n${NOTE_BASELINES} Batched baselines at both grid batch sizes, so one of them always matches the best cell's batching.\n\n` +
        `${baselineTable(big)}\n\n${crossCheck(big)}`,
    );
  }

  // ---- 4: memory
  if (!OPT.skipMem) {
    const [few, many] = [Math.min(...OPT.memDocs), Math.max(...OPT.memDocs)];
    const shard = join(CORPUS_DIR, 'human-000.jsonl.gz');
    const docs = await readJsonlTexts(shard, many);
    if (docs.length < many) throw new Error(`${shard} has only ${docs.length} documents`);
    const variants: { name: string; slice: Slice }[] = [
      { name: `first ${fmt(few)}`, slice: writeSlice(`mem-${few}`, docs.slice(0, few), OPT.memMaxChars, shard) },
      {
        name: `first ${fmt(few)} × ${Math.ceil(many / few)} (repeated)`,
        slice: writeSlice(
          `mem-${few}-rep`,
          Array.from({ length: many }, (_, i) => ({
            ...docs[i % few]!,
            id: `${docs[i % few]!.id}#${Math.floor(i / few)}`,
          })),
          OPT.memMaxChars,
          shard,
        ),
      },
      { name: `first ${fmt(many)}`, slice: writeSlice(`mem-${many}`, docs.slice(0, many), OPT.memMaxChars, shard) },
    ];
    const runs = variants.map(() => [] as MemResult[]);
    for (let r = 0; r < OPT.repeats; r++) {
      variants.forEach((v, i) => {
        const m = memRun(v.slice.path, STORIES, 16, 1, OPT.chunkDocs, v.slice.docs);
        runs[i]!.push(m);
        log(`mem rep ${r + 1}/${OPT.repeats} ${v.name}: ${fmtMiB(m.vmHwmMiB)} MiB peak, ${m.seconds.toFixed(1)} s`);
      });
    }
    const rows = variants.map((v, i) => {
      const ms = runs[i]!;
      const lb = largestBatch(v.slice.texts, STORIES, 16, OPT.chunkDocs);
      return [
        v.name,
        fmt(ms[0]!.docs),
        fmt(ms[0]!.tokens),
        stat(ms.map((m) => m.seconds)).median.toFixed(1),
        memStat(ms.map((m) => m.vmHwmMiB)),
        memStat(ms.map((m) => m.rssFirst10pctMiB)),
        memStat(ms.map((m) => m.rssLast10pctMiB)),
        `${lb.rows} × ${lb.seqLen} = ${fmt(lb.rows * lb.seqLen)}`,
      ];
    });
    out(
      `## 4. Memory vs corpus size (stories260k)\n\n` +
        `Documents from \`human-000.jsonl.gz\` (a training shard: the held-out file has only 1,070), each cut to ${OPT.memMaxChars} characters; batch 16, 1 worker, ${CORES} threads, chunkDocs ${OPT.chunkDocs}. ` +
        `${OPT.repeats} run(s) per row (median, min–max), each its own child process (\`bench/mem-driver.ts\`); inference and tokenizer workers are threads, so the process RSS covers them. ` +
        `Peak = the child's \`VmHWM\` (/proc/self/status). (\`getrusage\` maxRSS is useless here: Linux carries the forking parent's high-water mark across exec, so every child reported the bench process's own peak.) ` +
        `"RSS, first/last 10%": the largest RSS sampled after each written chunk while the first / last 10% of the documents were written. ` +
        `The repeated corpus has the same documents, hence the same batch shapes, as the small one, ten times over: it separates "more documents" from "different documents". ` +
        `Largest padded batch: replayed offline with the engine's chunking and bucketByLength (rows × longest row).\n\n` +
        table(
          [
            'corpus',
            'documents',
            'tokens',
            'seconds',
            'peak RSS (VmHWM), MiB',
            'RSS, first 10%',
            'RSS, last 10%',
            'largest padded batch',
          ],
          rows,
          [':--', '--:', '--:', '--:', '--:', '--:', '--:', '--:'],
        ),
    );

    if (bigDir && bigSlice) {
      const bigRuns = BIG_BATCHES.map(() => [] as MemResult[]);
      for (let r = 0; r < OPT.repeats; r++) {
        BIG_BATCHES.forEach((b, i) => {
          const m = memRun(bigSlice.path, bigDir, b, 1, OPT.bigChunkDocs, bigSlice.docs);
          bigRuns[i]!.push(m);
          log(`mem rep ${r + 1}/${OPT.repeats} random-llama b${b}: ${fmtMiB(m.vmHwmMiB)} MiB`);
        });
      }
      const rows2 = BIG_BATCHES.map((b, i) => {
        const lb = largestBatch(bigSlice.texts, bigDir, b, OPT.bigChunkDocs);
        const btv = (lb.rows * lb.seqLen * BENCH_LLAMA.vocab * 4) / 2 ** 20;
        return [
          String(b),
          '1',
          fmt(bigRuns[i]![0]!.tokens),
          memStat(bigRuns[i]!.map((m) => m.vmHwmMiB)),
          `${lb.rows} × ${lb.seqLen}`,
          fmt(btv),
        ];
      });
      out(
        `### 4b. Peak RSS on the random Llama (${OPT.repeats} child process(es) per row, median (min–max); the ${bigSlice.docs}-document slice of section 3, chunkDocs ${OPT.bigChunkDocs})\n\n` +
          table(
            [
              'batch',
              'workers',
              'tokens',
              'peak RSS (VmHWM), MiB',
              'largest padded batch',
              'one float32 [B,T,V] tensor, MiB',
            ],
            rows2,
          ),
      );
    }
  }

  const total = (performance.now() - startedAt) / 1000;
  out(
    `Bench wall time: ${fmt(total / 60, 1)} min (\`${['node --import tsx bench/score-throughput.ts', ...process.argv.slice(2)].join(' ')}\`); ` +
      `load average at the end: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' / ')} (1 / 5 / 15 min; it was ${env['load average at start']} at the start).`,
  );

  if (resultsPath) {
    const generated = `<!-- bench:begin (generated by bench/score-throughput.ts; edit outside these markers) -->\n\n${md.join('\n\n')}\n\n<!-- bench:end -->`;
    let doc: string;
    if (existsSync(resultsPath)) {
      const old = readFileSync(resultsPath, 'utf8');
      const re = /<!-- bench:begin[^>]*-->[\s\S]*<!-- bench:end -->/;
      doc = re.test(old) ? old.replace(re, () => generated) : `${old.trimEnd()}\n\n${generated}\n`;
    } else {
      doc = `# Scoring throughput (CPU)\n\nRun: \`npm run bench\` (≈10 min) or \`npm run bench -- --quick\` (smoke run).\n\n${generated}\n\n## Reading\n\n(to be written)\n`;
    }
    mkdirSync(dirname(resultsPath), { recursive: true });
    writeFileSync(resultsPath, doc);
    log(`wrote ${resultsPath}`);
  }
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    if (flags['keep-tmp']) log(`kept ${TMP}`);
    else rmSync(TMP, { recursive: true, force: true });
  });
