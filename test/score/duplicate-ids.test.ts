/**
 * Repeated ids (#19): score counts them in run.json and warns on stderr, writes every row anyway, and a resumed run
 * counts exactly what an uninterrupted one does.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InterruptedError } from '../../src/errors.js';
import { duplicateIdsWarning, HashSet64, ID_HASHES_FILE } from '../../src/score/duplicate-ids.js';
import { scoreCorpus, type RunSummary } from '../../src/score/score-corpus.js';
import { readJsonl, runCli } from '../helpers/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tailguard-dups-'));

/** `n` rows whose ids cycle through `distinct` values: rows distinct..n-1 repeat an earlier id. */
function cyclingCorpus(n: number, distinct: number): string {
  return (
    Array.from({ length: n }, (_, i) =>
      JSON.stringify({ id: `doc-${i % distinct}`, text: `Once upon a time, story ${i} began. Tom had a ball.` }),
    ).join('\n') + '\n'
  );
}

describe('HashSet64', () => {
  it('adds each value once, through many doublings, and keeps (0, 0) apart from empty slots', () => {
    const set = new HashSet64();
    for (let i = 1; i <= 5000; i++) expect(set.add(i * 7919, 0xffffffff - i)).toBe(true);
    for (let i = 1; i <= 5000; i++) expect(set.add(i * 7919, 0xffffffff - i)).toBe(false);
    expect(set.add(0, 0)).toBe(true);
    expect(set.add(0, 0)).toBe(false);
  });
});

describe('score with repeated ids', () => {
  it('counts them in run.json, names the first repeat, and still scores and writes every row', async () => {
    const dir = tmp();
    const input = join(dir, 'in.jsonl');
    const rows = [
      { id: 'a', text: 'Tom had a ball.' },
      { id: 'b', text: 'Sue had a kite.' },
      { id: 'a', text: 'Ben had a dog.' }, // line 3: the first repeat
      { id: 'c', text: '' }, // bad row, with an id
      { id: 'c', text: 'Max had a hat.' }, // repeats the bad row's id
      { id: 'a', text: 'Mia had a cake.' },
      { text: 'No id: its id is its line number, 7.' },
      { id: '7', text: "An id that is another row's line number." },
    ];
    writeFileSync(input, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const out = join(dir, 'out');
    const summary = await scoreCorpus({ input, out, idField: 'id', model: 'stories260k', device: 'cpu' });
    expect(summary.duplicate_ids).toEqual({
      count: 4,
      examples: ['a', 'c', '7'],
      first: { id: 'a', file: input, line: 3 },
      method: 'hash64',
    });
    expect(summary.counts).toEqual({ input_rows: 8, scored: 7, errors: 1 });
    expect(readJsonl(join(out, 'scores.jsonl')).map((r) => [r.id, r.line])).toEqual([
      ['a', 1],
      ['b', 2],
      ['a', 3],
      ['c', 5],
      ['a', 6],
      ['7', 7],
      ['7', 8],
    ]);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).duplicate_ids).toEqual(summary.duplicate_ids);
    expect(existsSync(join(out, ID_HASHES_FILE))).toBe(false);
    expect(duplicateIdsWarning(summary.duplicate_ids)).toBe(
      `4 input rows repeat the id of an earlier row (repeated ids: "a", "c", "7"); the first repeat is ${input} line 3 (id "a"). ` +
        'Every row is still scored and written: tell rows apart by their line, not their id.',
    );
  });

  it('without an id field, ids are line numbers: nothing to check, and run.json says so', async () => {
    const dir = tmp();
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, cyclingCorpus(4, 2));
    const summary = await scoreCorpus({ input, out: join(dir, 'out'), model: 'stories260k', device: 'cpu' });
    expect(summary.duplicate_ids).toEqual({ count: 0, examples: [], first: null, method: 'none' });
    expect(duplicateIdsWarning(summary.duplicate_ids)).toBeNull();
  });

  it('a resumed run counts what an uninterrupted one does, not its own earlier rows', async () => {
    const dir = tmp();
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, cyclingCorpus(90, 30)); // rows 31..90 repeat: 60 repeats
    const common = {
      input,
      idField: 'id',
      model: 'stories260k',
      device: 'cpu' as const,
      chunkDocs: 4,
      checkpointIntervalMs: 0,
    };
    const whole = await scoreCorpus({ ...common, out: join(dir, 'whole') });
    expect(whole.duplicate_ids).toMatchObject({
      count: 60,
      examples: ['doc-0', 'doc-1', 'doc-2', 'doc-3', 'doc-4'],
      first: { id: 'doc-0', line: 31 },
    });

    // Stopped twice: once before any repeat, once among them; the checkpoint holds the count so far and the hash log.
    const out = join(dir, 'resumed');
    const stopAt = async (rows: number): Promise<number> => {
      const stop = new AbortController();
      const err = await scoreCorpus({
        ...common,
        out,
        signal: stop.signal,
        onProgress: (p) => {
          if (p.records >= rows) stop.abort();
        },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InterruptedError);
      const cp = JSON.parse(readFileSync(join(out, 'checkpoint.json'), 'utf8'));
      expect(cp.idRepeats.hashBytes).toBe(8 * cp.counters.records);
      expect(cp.idRepeats.found.count).toBe(Math.max(0, cp.counters.records - 30));
      return cp.counters.records;
    };
    const first = await stopAt(12);
    expect(first).toBeLessThan(30);
    expect(await stopAt(first + 30)).toBeGreaterThan(30);
    const resumed = await scoreCorpus({ ...common, out });
    expect(resumed.attempts).toBe(3);
    expect(resumed.duplicate_ids).toEqual(whole.duplicate_ids);
    expect(readFileSync(join(out, 'scores.jsonl'), 'utf8')).toBe(
      readFileSync(join(dir, 'whole', 'scores.jsonl'), 'utf8'),
    );
    expect(existsSync(join(out, ID_HASHES_FILE))).toBe(false);
  });

  it('CLI: one WARNING on stderr, even with --quiet; run.json on stdout carries the count', () => {
    const dir = tmp();
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, cyclingCorpus(5, 3));
    const r = runCli([
      'score',
      input,
      '--out',
      join(dir, 'out'),
      '--id-field',
      'id',
      '--model',
      'stories260k',
      '--device',
      'cpu',
      '--quiet',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      `tailguard: WARNING: 2 input rows repeat the id of an earlier row (repeated ids: "doc-0", "doc-1"); the first repeat is ${input} line 4 (id "doc-0"). ` +
        'Every row is still scored and written: tell rows apart by their line, not their id.\n',
    );
    expect((JSON.parse(r.stdout) as RunSummary).duplicate_ids.count).toBe(2);
  });
});
