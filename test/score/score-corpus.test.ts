/**
 * The whole run: rows in order, bad rows reported and the rest scored, outputs that line up, Parquet,
 * and resume after kill -9 ending with exactly the outputs of an uninterrupted run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../src/io/npy-writer.js';
import { exitCodeFor, scoreCorpus } from '../../src/score/score-corpus.js';
import { ROOT, readJsonl } from '../helpers/cli.js';

const STORY =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.';

function tmp(name: string): string {
  return mkdtempSync(join(tmpdir(), `tailguard-${name}-`));
}

/** Many short, distinct documents: enough rows that a run takes a few seconds. */
function storyCorpus(n: number): string {
  const names = ['Lily', 'Tom', 'Sue', 'Ben', 'Max', 'Mia', 'Sam', 'Zoe'];
  const things = ['ball', 'kite', 'cake', 'dog', 'tree', 'boat', 'hat', 'book'];
  return (
    Array.from({ length: n }, (_, i) => {
      const who = names[i % names.length]!;
      const what = things[Math.floor(i / names.length) % things.length]!;
      const text = `Once upon a time, ${who} had a ${what}. ${who} played with the ${what} every day.${' It was fun.'.repeat(i % 7)} Story ${i}.`;
      return JSON.stringify({ id: `doc-${i}`, text });
    }).join('\n') + '\n'
  );
}

describe('scoreCorpus', () => {
  it('scores good rows in order, reports every bad row, and lines up scores with embeddings', async () => {
    const dir = tmp('messy');
    const input = join(dir, 'messy.jsonl');
    const lines = [
      JSON.stringify({ id: 'a', text: STORY }),
      '{"id": "b", "text": "unterminated',
      JSON.stringify({ id: 'c', body: 'no text field' }),
      JSON.stringify({ id: 'd', text: 42 }),
      JSON.stringify({ id: 'e', text: '   ' }),
      JSON.stringify({ id: 'f', text: 'Tom had a big red ball.' }),
    ];
    const bytes = Buffer.concat([
      Buffer.from(`${lines.join('\n')}\n`),
      Buffer.from('{"id": "g", "text": "bad '),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}\n'),
      Buffer.from(`${JSON.stringify({ id: 'h', text: 'The end.' })}\n`),
    ]);
    writeFileSync(input, bytes);
    const out = join(dir, 'out');
    const summary = await scoreCorpus({
      input,
      out,
      idField: 'id',
      model: 'stories260k',
      device: 'cpu',
      format: 'parquet',
    });
    expect(summary.counts).toEqual({ input_rows: 8, scored: 3, errors: 5 });
    expect(exitCodeFor(summary)).toBe(1);
    const scores = readJsonl(join(out, 'scores.jsonl'));
    expect(scores.map((r) => r.id)).toEqual(['a', 'f', 'h']);
    expect(scores.map((r) => r.line)).toEqual([1, 6, 8]);
    for (const r of scores) {
      for (const k of ['tokens', 'mean_nll', 'perplexity', 'mean_entropy', 'mean_log_rank', 'fast_detect'])
        expect(typeof r[k]).toBe('number');
      expect(r.perplexity).toBeCloseTo(Math.exp(r.mean_nll as number), 10);
    }
    const errors = readJsonl(join(out, 'errors.jsonl'));
    expect(errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 7]);
    expect(errors.map((e) => e.id)).toEqual(
      [null, 'c', 'd', 'e', null].map((v, i) => (i === 0 || i === 4 ? errors[i]!.id : v)),
    );
    expect(String(errors[1]!.reason)).toMatch(/text/);
    expect(String(errors[4]!.reason)).toMatch(/UTF-8/i);
    const npy = readNpy(join(out, 'embeddings.npy'));
    expect(npy.shape).toEqual([3, summary.model.hidden_size]);
    const parquet = await parquetReadObjects({ file: await asyncBufferFromPath(join(out, 'scores.parquet')) });
    expect(parquet.map((r) => r.id)).toEqual(['a', 'f', 'h']);
    expect(Number(parquet[0]!.tokens)).toBe(scores[0]!.tokens);
    expect(parquet[0]!.mean_nll).toBeCloseTo(scores[0]!.mean_nll as number, 12);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.device.used).toBe('cpu');
    expect(run.counts.errors).toBe(5);
    expect(existsSync(join(out, 'checkpoint.json'))).toBe(false);
  });

  it('refuses to overwrite a finished run unless asked', async () => {
    const dir = tmp('twice');
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, storyCorpus(3));
    const out = join(dir, 'out');
    await scoreCorpus({ input, out, model: 'stories260k', device: 'cpu' });
    await expect(scoreCorpus({ input, out, model: 'stories260k', device: 'cpu' })).rejects.toThrow(/finished run/);
    const again = await scoreCorpus({ input, out, model: 'stories260k', device: 'cpu', overwrite: true });
    expect(again.counts.scored).toBe(3);
  });

  it('finishes a run that crashed during its finishing steps (renames half done, no run.json)', async () => {
    const dir = tmp('finishing');
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, storyCorpus(5) + '{broken\n');
    const out = join(dir, 'out');
    const done = await scoreCorpus({ input, out, model: 'stories260k', device: 'cpu', format: 'parquet' });
    const expected = Object.fromEntries(
      ['scores.jsonl', 'errors.jsonl', 'embeddings.npy'].map((f) => [f, readFileSync(join(out, f))]),
    );
    // The state of a crash after the first rename: the checkpoint saying the input is done, the
    // other files still partial, no run.json yet.
    const { workers: _w, threads: _t, format: _f, ...fingerprint } = done.options;
    writeFileSync(
      join(out, 'checkpoint.json'),
      JSON.stringify({
        version: 1,
        fingerprint,
        counters: { records: 6, scored: 5, errors: 1, tokens: done.tokens },
        scoresBytes: expected['scores.jsonl']!.length,
        errorsBytes: expected['errors.jsonl']!.length,
        elapsedMs: 1000,
        inputDone: true,
        attempts: 1,
        device: 'cpu',
        fallbackReasons: [],
      }),
    );
    renameSync(join(out, 'errors.jsonl'), join(out, 'errors.jsonl.partial'));
    renameSync(join(out, 'embeddings.npy'), join(out, 'embeddings.npy.partial'));
    rmSync(join(out, 'run.json'));
    const again = await scoreCorpus({ input, out, model: 'stories260k', device: 'cpu', format: 'parquet' });
    expect(again.counts).toEqual(done.counts);
    expect(again.attempts).toBe(2);
    for (const [f, bytes] of Object.entries(expected)) expect(readFileSync(join(out, f)).equals(bytes), f).toBe(true);
    expect(existsSync(join(out, 'checkpoint.json'))).toBe(false);
    expect(existsSync(join(out, 'scores.parquet'))).toBe(true);
  });

  it('--overwrite removes only its own files from the output directory', async () => {
    const dir = tmp('overwrite');
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, storyCorpus(2));
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    await scoreCorpus({ input, out: dir, model: 'stories260k', device: 'cpu' });
    await scoreCorpus({ input, out: dir, model: 'stories260k', device: 'cpu', overwrite: true });
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(input)).toBe(true);
  });

  it('refuses to resume an interrupted run with other settings', async () => {
    const dir = tmp('mismatch');
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, storyCorpus(3));
    const out = join(dir, 'out');
    writeFileSync(join(dir, 'unused'), '');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(out);
    writeFileSync(
      join(out, 'checkpoint.json'),
      JSON.stringify({
        version: 1,
        fingerprint: { stride: 7 },
        counters: { records: 0, scored: 0, errors: 0, tokens: 0 },
        scoresBytes: 0,
        errorsBytes: 0,
        elapsedMs: 0,
        inputDone: false,
        attempts: 1,
        device: 'cpu',
        fallbackReasons: [],
      }),
    );
    await expect(scoreCorpus({ input, out, model: 'stories260k', device: 'cpu' })).rejects.toThrow(/stride: was 7/);
  });
});

async function asyncBufferFromPath(path: string) {
  const buf = readFileSync(path);
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

describe('resume after kill -9', () => {
  const cli = (args: string[]) =>
    spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'run.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const finish = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
    new Promise((resolve) => {
      const p = cli(args);
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      p.on('exit', (code) => resolve({ code, stderr }));
    });
  /** Starts a run and SIGKILLs it once its checkpoint shows at least `minRecords` rows committed. */
  const killAfter = (args: string[], out: string, minRecords: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const p = cli(args);
      const timer = setInterval(() => {
        try {
          const cp = JSON.parse(readFileSync(join(out, 'checkpoint.json'), 'utf8'));
          if (cp.counters.records >= minRecords) {
            clearInterval(timer);
            p.kill('SIGKILL');
            resolve(cp.counters.records);
          }
        } catch {
          /* not written yet */
        }
      }, 20);
      p.on('exit', (code, signal) => {
        clearInterval(timer);
        if (signal !== 'SIGKILL') reject(new Error(`run ended (code ${code}) before it could be killed`));
      });
    });

  it('ends with byte-identical outputs, no row lost or duplicated', async () => {
    const dir = tmp('resume');
    const input = join(dir, 'in.jsonl');
    // Some bad rows among the good ones, so errors.jsonl is resumed too.
    const good = storyCorpus(1500).split('\n');
    good.splice(100, 0, '{not json');
    good.splice(900, 0, JSON.stringify({ id: 'empty', text: '' }));
    writeFileSync(input, good.join('\n'));
    const common = [
      'score',
      input,
      '--id-field',
      'id',
      '--model',
      'stories260k',
      '--device',
      'cpu',
      '--chunk-docs',
      '8',
      '--checkpoint-seconds',
      '0',
      '--quiet',
    ];
    const whole = join(dir, 'whole');
    const straight = await finish([...common, '--out', whole]);
    expect(straight.code).toBe(1); // the two bad rows

    const broken = join(dir, 'broken');
    const first = await killAfter([...common, '--out', broken], broken, 200);
    const second = await killAfter([...common, '--out', broken], broken, first + 300);
    expect(second).toBeGreaterThan(first);
    const resumed = await finish([...common, '--out', broken]);
    expect(resumed.code).toBe(1);

    for (const f of ['scores.jsonl', 'errors.jsonl', 'embeddings.npy']) {
      expect(readFileSync(join(broken, f)).equals(readFileSync(join(whole, f))), f).toBe(true);
    }
    const ids = readJsonl(join(broken, 'scores.jsonl')).map((r) => r.id);
    expect(new Set(ids).size).toBe(1500);
    const run = JSON.parse(readFileSync(join(broken, 'run.json'), 'utf8'));
    expect(run.attempts).toBe(3);
    expect(run.counts).toEqual({ input_rows: 1502, scored: 1500, errors: 2 });
    // Rows written before a kill are not counted again as repeats of themselves when the run resumes.
    expect(run.duplicate_ids).toEqual({ count: 0, examples: [], first: null, method: 'hash64' });
  });

  it('stops cleanly on SIGINT (exit 130, progress kept), and the same command then finishes identically', async () => {
    const dir = tmp('sigint');
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, storyCorpus(1200));
    const common = [
      'score',
      input,
      '--id-field',
      'id',
      '--model',
      'stories260k',
      '--device',
      'cpu',
      '--chunk-docs',
      '8',
      '--checkpoint-seconds',
      '0',
      '--quiet',
    ];
    const whole = join(dir, 'whole');
    expect((await finish([...common, '--out', whole])).code).toBe(0);

    const out = join(dir, 'out');
    const p = cli([...common, '--out', out]);
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setInterval(() => {
        try {
          if (JSON.parse(readFileSync(join(out, 'checkpoint.json'), 'utf8')).counters.records >= 100) {
            clearInterval(timer);
            p.kill('SIGINT');
          }
        } catch {
          /* not yet */
        }
      }, 20);
      p.on('exit', (c) => {
        clearInterval(timer);
        resolve(c);
      });
    });
    expect(code).toBe(130);
    expect(stderr).toMatch(/run the same command again to resume/);
    const cp = JSON.parse(readFileSync(join(out, 'checkpoint.json'), 'utf8'));
    expect(cp.inputDone).toBe(false);
    expect(cp.counters.records).toBeLessThan(1200);
    expect((await finish([...common, '--out', out])).code).toBe(0);
    for (const f of ['scores.jsonl', 'errors.jsonl', 'embeddings.npy']) {
      expect(readFileSync(join(out, f)).equals(readFileSync(join(whole, f))), f).toBe(true);
    }
  });
});
