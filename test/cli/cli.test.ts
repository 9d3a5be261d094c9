/** The command as a user meets it: help, exit codes, stderr progress, stdout for machines. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tailguard-cli-'));

describe('tailguard CLI', () => {
  it('documents every option of score in --help', () => {
    const r = runCli(['score', '--help']);
    expect(r.status).toBe(0);
    for (const opt of [
      '--out',
      '--model',
      '--onnx-file',
      '--text-field',
      '--id-field',
      '--format',
      '--device',
      '--workers',
      '--threads',
      '--batch-size',
      '--max-batch-tokens',
      '--context',
      '--stride',
      '--chunk-docs',
      '--max-doc-bytes',
      '--overwrite',
      '--checkpoint-seconds',
      '--cache-dir',
      '--offline',
      '--quiet',
      '--json',
      'Exit status',
    ]) {
      expect(r.stdout).toContain(opt);
    }
  });

  it('--help of every command fits an 80-column terminal as whole paragraphs, and a closed pipe ends it quietly', () => {
    for (const cmd of ['score', 'detect', 'calibrate', 'audit', 'coverage', 'weights', 'tails export', 'compare']) {
      const r = runCli([...cmd.split(' '), '--help'], { env: { COLUMNS: '80' } });
      expect(r.status, cmd).toBe(0);
      const description = r.stdout.split('\n\n')[1]!;
      for (const line of description.split('\n')) expect(line.length, `${cmd}: ${line}`).toBeLessThanOrEqual(80);
      // A hand-wrapped paragraph is rewrapped, not cut into long and one-word lines.
      expect(
        description
          .split('\n')
          .slice(0, -1)
          .filter((l) => l.length < 40 && !/^\s/.test(l)),
        cmd,
      ).toEqual([]);
    }
    const piped = spawnSync(
      'bash',
      ['-c', `${JSON.stringify(process.execPath)} --import tsx src/cli/run.ts score --help | head -1`],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(piped.stdout).toMatch(/^Usage: tailguard score/);
    expect(piped.stderr).not.toMatch(/EPIPE/);
  });

  it('scores the bundled sample: exit 0, progress on stderr, run.json on stdout with --json', () => {
    const out = join(tmp(), 'run');
    const r = runCli([
      'score',
      join(ROOT, 'examples', 'sample.jsonl'),
      '--out',
      out,
      '--id-field',
      'id',
      '--device',
      'cpu',
      '--json',
    ]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/scoring .* on cpu/);
    expect(r.stderr).toMatch(/tok\/s/);
    const summary = JSON.parse(r.stdout);
    expect(summary.counts.errors).toBe(0);
    expect(summary.device.used).toBe('cpu');
    expect(summary.model.ref).toBe('tailguard-ref-6m'); // the default model
    const rows = readFileSync(join(out, 'scores.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(summary.counts.scored);
    expect(rows[0].id).toBe('story-1');
  });

  it('is silent on stderr with --quiet, and exits 1 when rows failed', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'in.jsonl'), '{"text": "Tom had a ball."}\n{"text": 3}\n');
    const r = runCli([
      'score',
      join(dir, 'in.jsonl'),
      '--out',
      join(dir, 'o'),
      '--quiet',
      '--model',
      'stories260k',
      '--device',
      'cpu',
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('');
  });

  it('exits 2 with a clear message for a missing input, an unknown option, or --device cuda without CUDA', () => {
    const dir = tmp();
    const missing = runCli(['score', join(dir, 'nope.jsonl'), '--out', join(dir, 'o')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/nope\.jsonl/);
    const unknown = runCli(['score', 'x.jsonl', '--out', join(dir, 'o'), '--bogus']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option/);
    writeFileSync(join(dir, 'in.jsonl'), '{"text": "Tom had a ball."}\n');
    const cuda = runCli(['score', join(dir, 'in.jsonl'), '--out', join(dir, 'o2'), '--device', 'cuda']);
    expect(cuda.status).toBe(2);
    expect(cuda.stderr).toMatch(/setup:cuda/);
  });

  it.skipIf(existsSync('/dev/dri') || existsSync('/dev/nvidia0'))(
    'reports a device that cannot start in one line, without a stack trace',
    () => {
      const dir = tmp();
      writeFileSync(join(dir, 'in.jsonl'), '{"text": "Tom had a ball."}\n');
      const r = runCli(['score', join(dir, 'in.jsonl'), '--out', join(dir, 'o'), '--device', 'webgpu']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/tailguard: could not start a session .* on webgpu/);
      expect(r.stderr).not.toMatch(/\n\s+at .*\.[jt]s:\d+/); // no JS stack frames (native warnings may precede)
    },
  );

  it('says where a model could not be found', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'in.jsonl'), '{"text": "Tom had a ball."}\n');
    const r = runCli([
      'score',
      join(dir, 'in.jsonl'),
      '--out',
      join(dir, 'o'),
      '--model',
      'no/such-model',
      '--offline',
      '--cache-dir',
      join(dir, 'cache'),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no\/such-model: not in the cache .* offline/);
  });
});
