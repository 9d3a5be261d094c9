/**
 * Scale-out bench (issue 17): what a shard costs, and what running shards side by side buys on one machine.
 * Every run is the built CLI (`node bin/tailguard.js score`, so `npm run build` first) in its own process, as a job
 * array task would be, timed from outside with /usr/bin/time (wall clock and peak RSS per process).
 *
 *   node --import tsx bench/shard-scaling.ts [--docs 512] [--chars 1500] [--repeats 3] [--model tailguard-ref-6m]
 *     [--heldout ../shared/corpora/human/heldout.jsonl] [--out bench/results/shard-scaling.md]
 *
 * Cells, each repeated (order rotated between repeats; medians reported):
 * - start-up: one task over a one-document input; its wall clock is the per-task overhead (Node start, model read,
 *   graph augmentation, session creation, worker spawn, writing outputs).
 * - 1 task: the whole slice in one process (threads per session: the default, every core).
 * - N concurrent tasks (N = 2, 4): `--shard i/N` for every i at once, with the default threads (every process asks
 *   for every core: oversubscribed) and with --threads = max(1, cores / N).
 * - 4 tasks one after another: the same shards queued on one machine, i.e. the work plus four start-ups.
 * The job's wall clock is from the first start to the last finish; its throughput is the slice's scored tokens over it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { shardDirName } from '../src/score/shards/layout.js';
import { machineDescription } from './lib/machine.js';

const ROOT = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    docs: { type: 'string', default: '512' },
    chars: { type: 'string', default: '1500' },
    repeats: { type: 'string', default: '3' },
    model: { type: 'string', default: 'tailguard-ref-6m' },
    heldout: { type: 'string', default: join(ROOT, '..', 'shared', 'corpora', 'human', 'heldout.jsonl') },
    out: { type: 'string', default: join(ROOT, 'bench', 'results', 'shard-scaling.md') },
  },
});
const cores = availableParallelism();
const work = mkdtempSync(join(tmpdir(), 'tailguard-shard-scaling-'));

interface ProcessRun {
  wall: number;
  peakRssMiB: number;
  tokens: number;
}

/** One `tailguard score` process; wall clock and peak RSS from /usr/bin/time, tokens from its run.json. */
function scoreProcess(input: string, out: string, extra: string[]): Promise<ProcessRun> {
  const timing = join(out.replace(/\/$/, '') + `-${extra.join('_').replace(/\W+/g, '_')}.time`);
  const args = ['-f', '%e %M', '-o', timing, process.execPath, join(ROOT, 'bin', 'tailguard.js'), 'score', input];
  args.push('--out', out, '--model', values.model, '--device', 'cpu', '--quiet', '--overwrite', ...extra);
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`tailguard score ${extra.join(' ')} exited ${code}: ${stderr}`));
      const [wall, rssKiB] = readFileSync(timing, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
      const shard = extra.indexOf('--shard');
      const [i, n] = shard < 0 ? [] : extra[shard + 1]!.split('/').map(Number);
      const dir = shard < 0 ? out : join(out, shardDirName(i!, n!));
      const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { tokens: number };
      resolve({ wall: wall!, peakRssMiB: rssKiB! / 1024, tokens: run.tokens });
    });
  });
}

interface JobRun {
  wall: number;
  tokens: number;
  perTask: ProcessRun[];
}

async function concurrent(input: string, shards: number, threads: number | null): Promise<JobRun> {
  const out = join(work, `c${shards}-${threads ?? 'd'}`);
  rmSync(out, { recursive: true, force: true });
  const t0 = performance.now();
  const perTask = await Promise.all(
    Array.from({ length: shards }, (_, i) =>
      scoreProcess(input, out, [
        ...(shards > 1 ? ['--shard', `${i}/${shards}`] : []),
        ...(threads ? ['--threads', String(threads)] : []),
      ]),
    ),
  );
  const wall = (performance.now() - t0) / 1000;
  return { wall, tokens: perTask.reduce((s, r) => s + r.tokens, 0), perTask };
}

async function sequential(input: string, shards: number): Promise<JobRun> {
  const out = join(work, `s${shards}`);
  rmSync(out, { recursive: true, force: true });
  const t0 = performance.now();
  const perTask: ProcessRun[] = [];
  for (let i = 0; i < shards; i++) perTask.push(await scoreProcess(input, out, ['--shard', `${i}/${shards}`]));
  const wall = (performance.now() - t0) / 1000;
  return { wall, tokens: perTask.reduce((s, r) => s + r.tokens, 0), perTask };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const range = (xs: number[], digits: number): string =>
  `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

async function main(): Promise<void> {
  const lines = readFileSync(values.heldout, 'utf8').split('\n').filter(Boolean).slice(0, Number(values.docs));
  const slice = join(work, 'slice.jsonl');
  const one = join(work, 'one.jsonl');
  const cut = lines.map((l) =>
    JSON.stringify({ text: (JSON.parse(l) as { text: string }).text.slice(0, Number(values.chars)) }),
  );
  writeFileSync(slice, cut.join('\n') + '\n');
  writeFileSync(one, cut[0] + '\n');
  const header = machineDescription(ROOT);

  type Cell = { name: string; tasks: number; run: () => Promise<JobRun> };
  const cells: Cell[] = [
    { name: 'start-up (1 document)', tasks: 1, run: () => concurrent(one, 1, null) },
    { name: '1 task', tasks: 1, run: () => concurrent(slice, 1, null) },
    { name: '2 concurrent, default threads', tasks: 2, run: () => concurrent(slice, 2, null) },
    {
      name: `2 concurrent, --threads ${Math.max(1, cores / 2)}`,
      tasks: 2,
      run: () => concurrent(slice, 2, Math.max(1, Math.floor(cores / 2))),
    },
    { name: '4 concurrent, default threads', tasks: 4, run: () => concurrent(slice, 4, null) },
    {
      name: `4 concurrent, --threads ${Math.max(1, Math.floor(cores / 4))}`,
      tasks: 4,
      run: () => concurrent(slice, 4, Math.max(1, Math.floor(cores / 4))),
    },
    { name: '4 one after another', tasks: 4, run: () => sequential(slice, 4) },
  ];
  const results = new Map<string, JobRun[]>(cells.map((c) => [c.name, []]));
  const repeats = Number(values.repeats);
  for (let r = 0; r < repeats; r++) {
    const order = cells.map((_, i) => cells[(i + r) % cells.length]!);
    for (const cell of order) {
      const run = await cell.run();
      results.get(cell.name)!.push(run);
      process.stderr.write(`repeat ${r + 1}/${repeats} ${cell.name}: ${run.wall.toFixed(1)} s, ${run.tokens} tokens\n`);
    }
  }

  const base = results.get('1 task')!;
  const startup = results.get('start-up (1 document)')!;
  const rows = cells.map((c) => {
    const runs = results.get(c.name)!;
    const walls = runs.map((r) => r.wall);
    const tps = runs.map((r) => r.tokens / r.wall);
    // Same-repeat ratios against the single task: the machine's speed drifts between repeats.
    const speedup = runs.map((r, i) => base[i]!.wall / r.wall);
    const rss = runs.flatMap((r) => r.perTask.map((p) => p.peakRssMiB));
    const taskWall = runs.flatMap((r) => r.perTask.map((p) => p.wall));
    return (
      `| ${c.name} | ${c.tasks} | **${median(walls).toFixed(1)}** (${range(walls, 1)}) | ${median(taskWall).toFixed(1)} | ` +
      `${c.name.startsWith('start-up') ? '—' : `**${median(tps).toFixed(0)}** (${range(tps, 0)})`} | ` +
      `${c.name.startsWith('start-up') ? '—' : `${median(speedup).toFixed(2)}×`} | ${median(rss).toFixed(0)} |`
    );
  });
  const tokens = base[0]!.tokens;
  const md = [
    '# Scale-out: shard overhead and concurrent tasks on one machine',
    '',
    `Generated by \`bench/shard-scaling.ts\` (${new Date().toISOString().slice(0, 16)}Z). Machine: ${header}.`,
    '',
    `Slice: the first ${lines.length} documents of \`heldout.jsonl\`, each cut to ${values.chars} characters ` +
      `(${tokens.toLocaleString('en')} scored tokens), model \`${values.model}\` fp32 on CPU, \`--chunk-docs\` 64. ` +
      `Each cell ${repeats} times, order rotated between repeats: **median** (min–max). "vs 1 task" is the median of ` +
      'same-repeat ratios of job wall clocks. Peak RSS is per process (VmHWM via /usr/bin/time).',
    '',
    '| cell | tasks | job wall clock, s | median task wall clock, s | job tokens/s | vs 1 task | peak RSS per task, MiB |',
    '| :-- | --: | --: | --: | --: | --: | --: |',
    ...rows,
    '',
    `Per-task start-up (the one-document run): median ${median(startup.map((r) => r.wall)).toFixed(2)} s.`,
    '',
  ].join('\n');
  writeFileSync(values.out, md);
  process.stdout.write(md);
  rmSync(work, { recursive: true, force: true });
}

await main();
