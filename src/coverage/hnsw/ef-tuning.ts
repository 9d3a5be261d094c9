/**
 * How wide a candidate list (hnswlib's ef) an index needs for its k-NN radii to be right. The metrics of prdc.ts are
 * thresholds on distances that, in high dimension, all lie close together: a radius taken from a neighbour that is
 * not among the true k nearest is only slightly too large, yet it flips many memberships (at 1M points in 256-d
 * clustered data, ef 100 gave recall@10 0.75 and precision 0.88 where the truth is near 0.65; bench/notes/2026-history.md).
 * How hard a set is depends on its size and intrinsic dimension, which no fixed ef suits, so it is measured: exact
 * (k+1)-NN of a sample of the set's own points by brute force, then the index's answers to the same self-queries at
 * ef, 2·ef, 4·ef, … until their recall reaches the target or ef reaches its cap. The index keeps the ef found.
 */
import { stageReporter, type OnProgress } from '../../progress.js';
import { recallRows, type AnnIndex } from './ann-index.js';
import { exactNeighbours } from '../exact/exact-search.js';
import { row, subset, type VectorSet } from '../vectors.js';

export interface RecallTarget {
  /** Recall@(k+1) of self-queries the index must reach (0: keep the configured ef, measure only). */
  target: number;
  /** Largest ef tried. */
  maxEf: number;
  /** Sample points checked against brute force. */
  sample: number;
}

export const DEFAULT_RECALL_TARGET: RecallTarget = { target: 0.98, maxEf: 3200, sample: 200 };

export interface EfTuning {
  /** The ef the index now searches with. */
  ef: number;
  /** Recall@(k+1) of the sample's self-queries at that ef (neighbours no farther than the exact (k+1)-th). */
  recall: number;
  sample: number;
  target: number;
  /** False when ef reached its cap with the recall still below target: the metrics are then approximate. */
  reached: boolean;
  /** Each ef tried, with its recall. */
  tried: { ef: number; recall: number }[];
}

export async function tuneEfSearch(
  index: AnnIndex,
  set: VectorSet,
  k: number,
  goal: RecallTarget,
  onProgress?: OnProgress,
  stage = 'ef tuning',
): Promise<EfTuning> {
  const rows = recallRows(set.ids.length, goal.sample);
  const kk = Math.min(k + 1, set.ids.length);
  const tick = stageReporter(onProgress, stage, rows.length);
  // The exact (k+1)-th distance per sample point (the point itself first, at 0): a neighbour found no farther is
  // right, whichever of several equidistant points it is.
  const kth = (await exactNeighbours(set, subset(set, rows).data, kk)).map((nb) => nb.distances[kk - 1]!);
  tick(rows.length - 1);
  const recallAt = (ef: number): number => {
    let hits = 0;
    rows.forEach((i, t) => {
      const limit = kth[t]! * (1 + 1e-5) + 1e-7; // float32 distances in hnswlib vs float64 sums here
      for (const d of index.knn(row(set, i), kk, ef).distances) if (d <= limit) hits++;
    });
    return rows.length ? hits / (rows.length * kk) : 1;
  };
  const tried: EfTuning['tried'] = [];
  let ef = Math.max(index.params.efSearch, kk);
  for (;;) {
    const recall = recallAt(ef);
    tried.push({ ef, recall });
    if (recall >= goal.target || ef >= goal.maxEf) {
      index.setEfSearch(ef);
      return { ef, recall, sample: rows.length, target: goal.target, reached: recall >= goal.target, tried };
    }
    ef = Math.min(2 * ef, goal.maxEf);
  }
}

/** The sides whose index stopped below the target at the ef cap (their metrics are approximate). */
export function shortOfTarget(t: {
  reference: EfTuning;
  candidate: EfTuning;
}): ['reference' | 'candidate', EfTuning][] {
  return (['reference', 'candidate'] as const).filter((side) => !t[side].reached).map((side) => [side, t[side]]);
}
