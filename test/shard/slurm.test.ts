/**
 * Sharded scoring under a real Slurm (scripts/slurm/cluster.sh: Debian's slurm-wlm and munge on this host, installed
 * when missing and possible). A 4-task array merged equals one run byte for byte; an array task killed mid-run and
 * resubmitted as `tailguard status` prints it loses and duplicates nothing. If Slurm cannot start, the tests fail
 * saying why: they are not skipped.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';

const CLUSTER = join(ROOT, 'scripts', 'slurm', 'cluster.sh');
const STATE = mkdtempSync(join(tmpdir(), 'tailguard-slurm-'));
const env = { ...process.env, TAILGUARD_SLURM_DIR: STATE, SLURM_CONF: join(STATE, 'slurm.conf') };
const SCORING = [
  '--model',
  'stories260k',
  '--device',
  'cpu',
  '--threads',
  '1',
  '--chunk-docs',
  '8',
  '--checkpoint-seconds',
  '0',
  '--quiet',
];

const sh = (cmd: string, args: string[], timeout = 300_000) =>
  spawnSync(cmd, args, { cwd: ROOT, env, encoding: 'utf8', timeout });
const cli = (args: string[]) => runCli(args, { env, timeout: 300_000 });

function corpus(dir: string, n: number): string {
  const path = join(dir, 'corpus.jsonl');
  const who = ['Lily', 'Tom', 'Sue', 'Ben', 'Max'];
  writeFileSync(
    path,
    Array.from({ length: n }, (_, i) =>
      JSON.stringify({
        id: `d${i}`,
        text: `Once upon a time, ${who[i % 5]} saw a bird.${' It sang.'.repeat(i % 6)} Story ${i}.`,
      }),
    ).join('\n') + '\n',
  );
  return path;
}

/** The batch script of the array: one `tailguard score` of the task's shard. */
function jobScript(dir: string, input: string, out: string, extra: string[]): string {
  const path = join(dir, 'score-array.sh');
  const argv = [
    process.execPath,
    '--import',
    'tsx',
    join(ROOT, 'src', 'cli', 'run.ts'),
    'score',
    input,
    '--out',
    out,
    '--id-field',
    'id',
    ...SCORING,
    ...extra,
  ];
  writeFileSync(
    path,
    `#!/bin/bash\ncd ${JSON.stringify(ROOT)}\nexec ${argv.map((a) => JSON.stringify(a)).join(' ')}\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

function sbatch(args: string[]): string {
  const r = sh('sbatch', ['--parsable', '--cpus-per-task=1', ...args]);
  expect(r.status, `sbatch ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim().split(';')[0]!;
}

function expectSameRun(single: string, merged: string): void {
  for (const f of ['scores.jsonl', 'errors.jsonl', 'embeddings.npy'])
    expect(readFileSync(join(merged, f)).equals(readFileSync(join(single, f))), f).toBe(true);
}

async function waitFor<T>(what: string, f: () => T | undefined, timeoutMs = 240_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('Slurm job arrays', () => {
  beforeAll(() => {
    const r = sh(CLUSTER, ['start'], 600_000);
    if (r.status !== 0)
      throw new Error(
        `Slurm could not start (scripts/slurm/cluster.sh start, exit ${r.status}): ${r.stderr || r.error?.message}`,
      );
  }, 600_000);
  afterAll(() => {
    sh(CLUSTER, ['stop'], 60_000);
  }, 60_000);

  it('sbatch --array=0-3 of score, then merge: equal to one run byte for byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-slurm-array-'));
    const input = corpus(dir, 120);
    const single = join(dir, 'single');
    expect(cli(['score', input, '--out', single, '--id-field', 'id', ...SCORING]).status).toBe(0);
    const out = join(dir, 'sharded');
    // No --shards: the count comes from SLURM_ARRAY_TASK_COUNT.
    const script = jobScript(dir, input, out, []);
    const job = sbatch(['--wait', '--array=0-3', `--output=${dir}/slurm-%A_%a.out`, script]);
    expect(readFileSync(join(dir, `slurm-${job}_3.out`), 'utf8')).toMatch(
      /shard 3 of 4 \(SLURM_ARRAY_TASK_ID=3, shard count from SLURM_ARRAY_TASK_COUNT=4\)/,
    );
    const run3 = JSON.parse(readFileSync(join(out, 'shard-00003-of-00004', 'run.json'), 'utf8'));
    expect(run3.shard).toEqual({
      index: 3,
      count: 4,
      source: 'SLURM_ARRAY_TASK_ID=3, shard count from SLURM_ARRAY_TASK_COUNT=4',
    });
    const status = cli(['status', out]);
    expect(status.status, status.stdout + status.stderr).toBe(0);
    expect(cli(['merge', out, '--out', join(dir, 'merged'), '--quiet']).status).toBe(0);
    expectSameRun(single, join(dir, 'merged'));
  }, 600_000);

  it('a task killed mid-run, rerun as status prints it: nothing lost or duplicated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-slurm-fault-'));
    const input = corpus(dir, 1200);
    const single = join(dir, 'single');
    expect(cli(['score', input, '--out', single, '--id-field', 'id', ...SCORING]).status).toBe(0);
    const out = join(dir, 'sharded');
    const script = jobScript(dir, input, out, ['--shards', '4']);
    const job = sbatch(['--array=0-3', `--output=${dir}/slurm-%A_%a.out`, script]);
    // Kill task 2 (its whole job, with SIGKILL) once it has committed some rows.
    const checkpoint = join(out, 'shard-00002-of-00004', 'checkpoint.json');
    await waitFor('task 2 to commit rows', () => {
      try {
        return JSON.parse(readFileSync(checkpoint, 'utf8')).counters.records >= 16 ? true : undefined;
      } catch {
        return undefined;
      }
    });
    expect(sh('scancel', ['--signal=KILL', '--full', `${job}_2`]).status).toBe(0);
    await waitFor('the array to end', () => (sh('squeue', ['-h', '-j', job]).stdout.trim() === '' ? true : undefined));
    expect(existsSync(join(out, 'shard-00002-of-00004', 'shard-done.json'))).toBe(false);

    const status = cli(['status', out]);
    expect(status.status).toBe(1);
    expect(status.stdout).toMatch(/started \(running, or stopped and resumable\): 2\n/);
    const rerun = /sbatch --array=(\S+)/.exec(status.stdout)?.[1];
    expect(rerun).toBe('2');
    expect(cli(['merge', out, '--out', join(dir, 'merged')]).stderr).toMatch(/shard 2 of 4 is not done/);

    sbatch(['--wait', `--array=${rerun}`, `--output=${dir}/rerun-%A_%a.out`, script]);
    expect(cli(['status', out]).status).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'shard-00002-of-00004', 'run.json'), 'utf8')).attempts).toBe(2);
    expect(cli(['merge', out, '--out', join(dir, 'merged'), '--quiet']).status).toBe(0);
    expectSameRun(single, join(dir, 'merged'));
  }, 600_000);
});
