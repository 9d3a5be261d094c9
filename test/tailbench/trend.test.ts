/**
 * The alarm "the tail degrades while the head holds" on hand-built ledgers: it fires, it does not (a rise within the
 * interval), the head degrades too (not this alarm), a slow drift seen only against the first generation, and
 * generations that cannot be compared; the ledger file is updated in place and refuses other commands' ledgers.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MeanStat } from '../../src/tailbench/bench-stats.js';
import {
  readTailbenchLedger,
  recordTailbench,
  type TailbenchLedger,
  type TailbenchLedgerEntry,
} from '../../src/tailbench/ledger.js';
import { compareTailbenchGenerations, tailTrend } from '../../src/tailbench/trend.js';

const stat = (mean: number, se: number, docs: number): MeanStat => ({
  docs,
  mean,
  se,
  lo: mean - 1.96 * se,
  hi: mean + 1.96 * se,
});
const entry = (generation: string, tail: number, head: number, o: Partial<TailbenchLedgerEntry> = {}) =>
  ({
    generation,
    model: { ref: `m-${generation}`, dir: '/m', onnx: '/m/onnx/model.onnx' },
    anchor: '/a.jsonl',
    coverage: '/cov',
    unit: 'bits_per_byte',
    tails: [2, 0],
    tail: stat(tail, 0.01, 50),
    head: stat(head, 0.01, 150),
    gap: { value: tail - head, lo: tail - head - 0.03, hi: tail - head + 0.03 },
    recorded_at: '2026-12-02T00:00:00.000Z',
    ...o,
  }) as TailbenchLedgerEntry;
const ledger = (...generations: TailbenchLedgerEntry[]): TailbenchLedger => ({
  tool: 'tailguard',
  command: 'tailbench',
  ledger_version: 1,
  generations,
});
// SE of a change = √(0.01² + 0.01²) = 0.0141421; z·SE at 1.96 = 0.0277186.
const ZSE = 1.96 * Math.SQRT2 * 0.01;

describe('tailTrend', () => {
  it('fires: the tail rose 0.10 (interval above 0), the head 0.005 (within its interval)', () => {
    const t = tailTrend(ledger(entry('g0', 1.0, 0.8), entry('g1', 1.1, 0.805)), 'g1', 1.96);
    expect(t.alarm).toBe(true);
    expect(t.vs_first).toBeNull();
    const c = t.vs_previous!;
    if (!c.comparable) throw new Error('expected comparable');
    expect(c.tail.delta).toBeCloseTo(0.1, 12);
    expect(c.tail.se).toBeCloseTo(Math.SQRT2 * 0.01, 12);
    expect(c.tail.lo).toBeCloseTo(0.1 - ZSE, 12);
    expect(c.head.delta).toBeCloseTo(0.005, 12);
    expect(c.head.lo).toBeCloseTo(0.005 - ZSE, 12);
    expect([c.tail_degraded, c.head_holds, c.alarm]).toEqual([true, true, true]);
    expect(t.reasons).toEqual([
      "the tail degrades while the head holds: since generation g0 the tail's bits per byte changed by +0.1000 (+0.0723 to +0.1277), the head's by +0.0050 (-0.0227 to +0.0327)",
    ]);
  });

  it('does not fire: a tail rise of 0.02 is within its interval (0.02 < 0.0277)', () => {
    const t = tailTrend(ledger(entry('g0', 1.0, 0.8), entry('g1', 1.02, 0.8)), 'g1', 1.96);
    expect(t.alarm).toBe(false);
    expect(t.reasons).toEqual([]);
    // …but at z = 1 (0.02 > 0.0141) it does.
    expect(tailTrend(ledger(entry('g0', 1.0, 0.8), entry('g1', 1.02, 0.8)), 'g1', 1).alarm).toBe(true);
  });

  it('the head degrades too: not this alarm, a note instead; an improving head holds', () => {
    const both = tailTrend(ledger(entry('g0', 1.0, 0.8), entry('g1', 1.1, 0.9)), 'g1', 1.96);
    expect(both.alarm).toBe(false);
    const c = both.vs_previous!;
    expect(c.comparable && [c.tail_degraded, c.head_holds]).toEqual([true, false]);
    expect(both.notes[0]).toMatch(/^the tail and the head both degraded/);
    const better = tailTrend(ledger(entry('g0', 1.0, 0.8), entry('g1', 1.1, 0.6)), 'g1', 1.96);
    expect(better.alarm).toBe(true);
  });

  it('a slow drift: each step within its interval, the change since the first beyond it', () => {
    const l = ledger(entry('g0', 1.0, 0.8), entry('g1', 1.02, 0.8), entry('g2', 1.04, 0.8));
    const t = tailTrend(l, 'g2', 1.96);
    expect(t.vs_previous!.comparable && t.vs_previous!.alarm).toBe(false);
    expect(t.vs_first!.against).toBe('g0');
    expect(t.vs_first!.comparable && t.vs_first!.alarm).toBe(true);
    expect(t.alarm).toBe(true);
    expect(t.reasons).toHaveLength(1);
    expect(t.reasons[0]).toContain('since generation g0');
    // The first generation has nothing to compare with.
    expect(tailTrend(l, 'g0', 1.96)).toMatchObject({ vs_previous: null, vs_first: null, alarm: false });
  });

  it('generations over other tails or other documents are not compared', () => {
    const other = entry('g1', 2.0, 0.8, { tails: [1] });
    const t = tailTrend(ledger(entry('g0', 1.0, 0.8), other), 'g1', 1.96);
    expect(t.alarm).toBe(false);
    expect(t.vs_previous).toMatchObject({ comparable: false, reason: "its tail regions are [2,0], this one's [1]" });
    expect(t.notes).toEqual(["generation g1 is not compared with g0: its tail regions are [2,0], this one's [1]"]);
    const fewer = entry('g1', 2.0, 0.8, { tail: stat(2.0, 0.01, 49) });
    expect(compareTailbenchGenerations(entry('g0', 1.0, 0.8), fewer, 1.96)).toMatchObject({ comparable: false });
    // The same tails in another order are the same tails.
    const reordered = entry('g1', 1.1, 0.8, { tails: [0, 2] });
    expect(compareTailbenchGenerations(entry('g0', 1.0, 0.8), reordered, 1.96)).toMatchObject({ alarm: true });
  });
});

describe('the tailbench ledger file', () => {
  it('appends generations, replaces one benchmarked again, and refuses other ledgers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-tailbench-ledger-'));
    const path = join(dir, 'ledger.json');
    await recordTailbench(path, entry('g0', 1, 0.8));
    await recordTailbench(path, entry('g1', 1.1, 0.8));
    const l = await recordTailbench(path, entry('g0', 0.9, 0.8));
    expect(l.generations.map((g) => [g.generation, g.tail!.mean])).toEqual([
      ['g0', 0.9],
      ['g1', 1.1],
    ]);
    expect(readTailbenchLedger(path)).toEqual(JSON.parse(readFileSync(path, 'utf8')));
    writeFileSync(join(dir, 'cmp.json'), JSON.stringify({ command: 'compare', generations: [] }));
    expect(() => readTailbenchLedger(join(dir, 'cmp.json'))).toThrow(
      'is the ledger of `tailguard compare`: give `ledger` a file of its own',
    );
    writeFileSync(
      join(dir, 'entry.json'),
      JSON.stringify({ ...ledger(entry('g0', 1, 0.8)), generations: [{ generation: 'g0' }] }),
    );
    expect(() => readTailbenchLedger(join(dir, 'entry.json'))).toThrow(
      'entry.json: generation entry 1 lacks its generation name, unit or tail regions',
    );
    writeFileSync(join(dir, 'bad.json'), '{"command": "tailbench"');
    expect(() => readTailbenchLedger(join(dir, 'bad.json'))).toThrow(/bad\.json: not a JSON tailbench ledger/);
  });
});
