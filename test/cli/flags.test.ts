/** Library errors name library options; the CLI shows the flags a user types. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { checkCalibrationSizes } from '../../src/detect/detector.js';
import { flagTable, withFlags } from '../../src/cli/flags.js';
import { ROOT, runCli } from '../helpers/cli.js';

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourcesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('option names in errors', () => {
  it('the library names its own option, not a flag', () => {
    expect(() => checkCalibrationSizes(400, 400, 2)).toThrow('`targetFpr` must be in (0, 1) (got 2)');
  });

  it('no error raised outside src/cli spells a CLI flag', () => {
    const offenders = sourcesUnder(join(ROOT, 'src'))
      .filter((f) => !f.includes(`${join('src', 'cli')}`))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((line, i) => ({ f, i, line })),
      )
      .filter(({ line }) => /Error\(.*--[a-z]/.test(line) && !/^\s*(\/\/|\*)/.test(line));
    expect(offenders.map(({ f, i }) => `${f}:${i + 1}`)).toEqual([]);
  });

  it('withFlags rewrites known options from the commands, keeps other backticked text', () => {
    const program = new Command('t');
    program.addCommand(new Command('score').option('--max-batch-tokens <n>').option('--out <dir>'));
    const table = flagTable(program);
    expect(
      withFlags(
        '`maxBatchTokens` (got 3) is too small; choose another `out`; run `tailguard calibrate`; `targetFpr`',
        table,
      ),
    ).toBe('--max-batch-tokens (got 3) is too small; choose another --out; run `tailguard calibrate`; --fpr');
    expect(withFlags('`unknownThing` stays', table)).toBe('`unknownThing` stays');
  });

  it("a subcommand's options are in the table too (tails export --budget)", () => {
    const program = new Command('t');
    program.addCommand(new Command('tails').addCommand(new Command('export').option('--budget <n>')));
    expect(withFlags('`budget` must be a positive integer', flagTable(program))).toBe(
      '--budget must be a positive integer',
    );
  });

  it('the CLI prints the flag where the library named the option', () => {
    const r = runCli([
      'score',
      join(ROOT, 'examples', 'sample.jsonl'),
      '--out',
      join(ROOT, 'tmp', 'never-written'),
      '--context',
      '100000',
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('tailguard: --context must be in 2..');
    expect(r.stderr).not.toContain('`context`');
  });
});
