/** `--observer-model` / `--observer-onnx-file` as a user meets them: help, a Binoculars run, refusals (exit 2). */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_DISTRIBUTION_FIELDS } from '../../src/signals/token-distribution.js';
import { makeSibling, STORIES_DIR, type Sibling } from '../score/sibling-model.js';
import { ROOT, runCli } from '../helpers/cli.js';

const TINY_GPT2 = join(ROOT, 'test', 'fixtures', 'tiny-gpt2');

let scoreHelp: string | undefined;
const help = (): string => (scoreHelp ??= runCli(['score', '--help']).stdout);
let sibling: Sibling;
let input: string;
const dir = mkdtempSync(join(tmpdir(), 'tailguard-observer-cli-'));
beforeAll(() => {
  sibling = makeSibling();
  input = join(dir, 'in.jsonl');
  writeFileSync(
    input,
    `${JSON.stringify({ text: 'Tom had a big red ball.' })}\n${JSON.stringify({ text: 'The quarterly margins fell.' })}\n`,
  );
});

describe('observer options', () => {
  it('score, detect and calibrate take them; score --help defines binoculars and the token-distribution signals', () => {
    for (const cmd of ['score', 'detect', 'calibrate']) {
      const r = runCli([cmd, '--help']);
      expect(r.status, cmd).toBe(0);
      if (cmd === 'score') scoreHelp = r.stdout;
      expect(r.stdout, cmd).toContain('--observer-model <model>');
      expect(r.stdout, cmd).toContain('--observer-onnx-file <path>');
      if (cmd !== 'score') continue;
      expect(r.stdout).toMatch(/^ {2}binoculars +mean_nll \/ \(\(1\/n\) Σ X_t\)/m);
      expect(r.stdout).toMatch(/Hans et al\. 2024/);
      for (const f of TOKEN_DISTRIBUTION_FIELDS) expect(r.stdout).toMatch(new RegExp(`^ {2}(\\w+, )*${f}\\b`, 'm'));
    }
  });

  it('tailguard score --observer-model writes binoculars (every written signal is defined in --help) and names the observer', () => {
    const out = join(dir, 'run');
    const r = runCli([
      'score',
      input,
      '--out',
      out,
      '--model',
      STORIES_DIR,
      '--observer-model',
      sibling.dir,
      '--device',
      'cpu',
      '--json',
    ]);
    expect(r.stderr).toContain(`observer ${sibling.dir}`);
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.model.observer.dir).toBe(sibling.dir);
    const rows = readFileSync(join(out, 'scores.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(typeof row.binoculars).toBe('number');
      expect(row.binoculars as number).toBeGreaterThan(0);
      for (const k of Object.keys(row).filter((k) => k !== 'id' && k !== 'line'))
        expect(help(), k).toMatch(new RegExp(`^ {2}(\\w+, )*${k}\\b`, 'm'));
    }
  });

  it('exits 2 naming the observer when its tokenizer differs, and when --observer-onnx-file comes without --observer-model', () => {
    const mismatch = runCli([
      'score',
      input,
      '--out',
      join(dir, 'gpt2'),
      '--model',
      STORIES_DIR,
      '--observer-model',
      TINY_GPT2,
      '--device',
      'cpu',
    ]);
    expect(mismatch.status).toBe(2);
    expect(mismatch.stderr).toContain(`observer model ${TINY_GPT2}`);
    expect(mismatch.stderr).toMatch(/tokenizer/);
    expect(mismatch.stderr).not.toMatch(/\n\s+at /); // one line, no stack trace
    const alone = runCli([
      'score',
      input,
      '--out',
      join(dir, 'alone'),
      '--model',
      STORIES_DIR,
      '--observer-onnx-file',
      'onnx/model.onnx',
      '--device',
      'cpu',
    ]);
    expect(alone.status).toBe(2);
    expect(alone.stderr).toMatch(/--observer-onnx-file .*--observer-model/);
  });
});
