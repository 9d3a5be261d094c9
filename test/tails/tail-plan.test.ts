/** The tail export's masses, weights and budget shares against hand-computed values. */
import { describe, expect, it } from 'vitest';
import { allocate, picked, tailPlan } from '../../src/tails/tail-plan.js';

// Candidate N = 1000. Region 0: 20% of the reference (20 of 100 documents), 5% of the candidate (thin);
// region 1: 10% (10 documents), 0% (absent). R = 0.3, Q = 0.05, (1 − Q)/(1 − R) = 0.95/0.7.
const TAILS = [
  { region: 0, reference_share: 0.2, candidate_share: 0.05, reference_documents: 20 },
  { region: 1, reference_share: 0.1, candidate_share: 0, reference_documents: 10 },
];
// m_0 = 1000·(0.2·0.95/0.7 − 0.05) = 221.428571…, m_1 = 1000·0.1·0.95/0.7 = 135.714285…
const M0 = 1550 / 7;
const M1 = 950 / 7;

describe('tailPlan', () => {
  it('masses restore the reference shares of the tail regions in the mix', () => {
    const p = tailPlan(TAILS, 1000);
    expect(p.regions[0]!.mass).toBeCloseTo(M0, 9);
    expect(p.regions[1]!.mass).toBeCloseTo(M1, 9);
    expect(p.total_mass).toBeCloseTo(2500 / 7, 9);
    // Every anchor document of the tails goes out, each weighing its region's mass / its documents.
    expect(p.regions.map((r) => r.exported)).toEqual([20, 10]);
    expect(p.exported).toBe(30);
    expect(p.regions[0]!.weight).toBeCloseTo(M0 / 20, 9); // 11.071428…
    expect(p.regions[1]!.weight).toBeCloseTo(M1 / 10, 9); // 13.571428…
    // Independent check: candidate counts plus the exported weights, as shares of the mix.
    const mix = 1000 + 20 * p.regions[0]!.weight + 10 * p.regions[1]!.weight;
    expect((50 + 20 * p.regions[0]!.weight) / mix).toBeCloseTo(0.2, 12);
    expect((0 + 10 * p.regions[1]!.weight) / mix).toBeCloseTo(0.1, 12);
    // The other regions (95% of the candidate) end at 70% of the mix: the reference's share of them.
    expect(950 / mix).toBeCloseTo(0.7, 12);
  });

  it('a budget is shared by mass, largest remainder first', () => {
    // 12 · m_0/(m_0 + m_1) = 7.44, 12 · m_1/… = 4.56: floors 7 and 4, the last seat to region 1 (.56 > .44).
    const p = tailPlan(TAILS, 1000, 12);
    expect(p.regions.map((r) => r.exported)).toEqual([7, 5]);
    expect(p.regions[0]!.weight).toBeCloseTo(M0 / 7, 9);
    expect(p.regions[1]!.weight).toBeCloseTo(M1 / 5, 9);
  });

  it('a region given more than it has keeps what it has, and the rest goes to the others', () => {
    // 28 → 17.36 and 10.64; region 1 has only 10, so region 0 gets 18.
    expect(tailPlan(TAILS, 1000, 28).regions.map((r) => r.exported)).toEqual([18, 10]);
    // A budget beyond every tail document: all of them.
    expect(tailPlan(TAILS, 1000, 500).regions.map((r) => r.exported)).toEqual([20, 10]);
  });

  it('refuses a budget that is not a positive integer', () => {
    expect(() => tailPlan(TAILS, 1000, 0)).toThrow(/`budget` must be a positive integer/);
    expect(() => tailPlan(TAILS, 1000, 2.5)).toThrow(/`budget` must be a positive integer/);
  });

  it('no tails: nothing to export', () => {
    expect(tailPlan([], 1000)).toEqual({ regions: [], total_mass: 0, exported: 0 });
  });
});

describe('allocate and picked', () => {
  it('ties go to the lower region; even spacing picks exactly b of n', () => {
    expect(allocate(3, [1, 1], [5, 5])).toEqual([2, 1]);
    expect(allocate(10, [3, 1, 0], [100, 100, 100])).toEqual([8, 2, 0]); // 7.5 and 2.5: tie to region 0
    const chosen = Array.from({ length: 20 }, (_, t) => t).filter((t) => picked(t, 20, 7));
    expect(chosen).toEqual([2, 5, 8, 11, 14, 17, 19]);
    expect(Array.from({ length: 10 }, (_, t) => t).filter((t) => picked(t, 10, 10))).toHaveLength(10);
    expect(Array.from({ length: 10 }, (_, t) => t).filter((t) => picked(t, 10, 0))).toEqual([]);
  });
});
