/** The queue's selection: the best-k heap against a full sort, and the budget shared in turns on hand-built lists. */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/random.js';
import { BestK, seededKey, takeInTurns, type Ranked } from '../../src/review/select.js';

const list = (ids: string[]): Ranked[] => ids.map((id, i) => ({ id, key: i, order: i }));

describe('BestK', () => {
  it('keeps the k smallest by (key, order), as a full sort would', () => {
    const rng = mulberry32(3);
    const all: Ranked[] = Array.from({ length: 500 }, (_, i) => ({
      id: `x${i}`,
      key: Math.floor(rng() * 50) / 10, // many ties: order breaks them
      order: i,
    }));
    const best = new BestK(37);
    for (const c of all) best.offer(c);
    const want = [...all].sort((a, b) => a.key - b.key || a.order - b.order).slice(0, 37);
    expect(best.sorted()).toEqual(want);
  });

  it('a repeated id keeps its first row', () => {
    const best = new BestK(3);
    best.offer({ id: 'a', key: 5, order: 0 });
    best.offer({ id: 'a', key: 1, order: 1 });
    best.offer({ id: 'b', key: 2, order: 2 });
    expect(best.sorted().map((c) => [c.id, c.key])).toEqual([
      ['b', 2],
      ['a', 5],
    ]);
  });
});

describe('takeInTurns', () => {
  it('equal shares in turns, in reason order', () => {
    const picks = takeInTurns(
      {
        near_threshold: list(['n1', 'n2', 'n3', 'n4']),
        tail_region: list(['t1', 't2', 't3']),
        held_batch: list(['h1', 'h2']),
      },
      7,
    );
    expect(picks.map((p) => p.id)).toEqual(['n1', 't1', 'h1', 'n2', 't2', 'h2', 'n3']);
    expect(picks.map((p) => p.rank)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('a short reason leaves its share to the others; a document with two reasons is taken once', () => {
    // budget 9 over 3 reasons is 3 each; held has one candidate, and t1 is also near's second.
    const picks = takeInTurns(
      {
        near_threshold: list(['n1', 't1', 'n3', 'n4', 'n5', 'n6']),
        tail_region: list(['t1', 't2', 't3', 't4']),
        held_batch: list(['h1']),
      },
      9,
    );
    expect(picks.map((p) => `${p.id}:${p.reason}`)).toEqual([
      'n1:near_threshold',
      't1:tail_region',
      'h1:held_batch',
      'n3:near_threshold', // t1 is taken: passed over
      't2:tail_region',
      'n4:near_threshold',
      't3:tail_region',
      'n5:near_threshold',
      't4:tail_region',
    ]);
    expect(new Set(picks.map((p) => p.id)).size).toBe(9);
  });

  it('stops when every list is spent, under the budget', () => {
    const picks = takeInTurns({ near_threshold: list(['a', 'b']), held_batch: list(['b', 'c']) }, 10);
    expect(picks.map((p) => `${p.id}:${p.reason}`)).toEqual(['a:near_threshold', 'b:held_batch', 'c:held_batch']);
  });

  it('2 × budget of each list is always enough: a longer list changes nothing', () => {
    const rng = mulberry32(9);
    const ids = Array.from({ length: 60 }, (_, i) => `d${i}`);
    const shuffled = () => [...ids].sort(() => rng() - 0.5);
    const full = { near_threshold: list(shuffled()), tail_region: list(shuffled()), held_batch: list(shuffled()) };
    for (const budget of [1, 5, 12, 20]) {
      const cut = Object.fromEntries(Object.entries(full).map(([r, l]) => [r, l.slice(0, 2 * budget)]));
      expect(takeInTurns(cut, budget)).toEqual(takeInTurns(full, budget));
    }
  });
});

describe('seededKey', () => {
  it('is fixed by seed, reason and id, and uniform enough', () => {
    expect(seededKey(1, 'tail_region', 'x')).toBe(seededKey(1, 'tail_region', 'x'));
    expect(seededKey(1, 'tail_region', 'x')).not.toBe(seededKey(2, 'tail_region', 'x'));
    expect(seededKey(1, 'tail_region', 'x')).not.toBe(seededKey(1, 'held_batch', 'x'));
    const keys = Array.from({ length: 4000 }, (_, i) => seededKey(7, 'held_batch', `id${i}`));
    expect(Math.min(...keys)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...keys)).toBeLessThan(1);
    // Each decile holds 400 ± 4.5 sd (sd = √(4000 · 0.1 · 0.9) ≈ 19).
    for (let d = 0; d < 10; d++) {
      const n = keys.filter((k) => k >= d / 10 && k < (d + 1) / 10).length;
      expect(Math.abs(n - 400)).toBeLessThan(85);
    }
  });
});
