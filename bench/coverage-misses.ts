/**
 * Which way the bench's sampled in-manifold disagreements go at one size, on indexes the coverage bench saved
 * (`--index-dir`): for the bench's sampled candidates, each one's NEAR nearest reference points by exact search,
 * their self-query radii at the given ef (forward only: an upper bound on the radii prdc computes) and their exact
 * radii; then verdicts with those radii, and whether a ball query from a holding ball (as balls.ts) or the second
 * look (the candidate's 32 nearest reference points) finds each exact membership, and for those neither finds, what
 * would. A diagnostic, not a benchmark.
 *
 *   node --import tsx bench/coverage-misses.ts --index-dir tmp/idx1m [--n 1000000] [--ef 400] [--sample 100]
 */
import { parseArgs } from 'node:util';
import { AnnIndex } from '../src/coverage/hnsw/ann-index.js';
import { exactNeighbours } from '../src/coverage/exact/exact-search.js';
import { exactRadiiOf, foundItself, WIDE_EF } from '../src/coverage/hnsw/radii.js';
import { row, subset, type VectorSet } from '../src/coverage/vectors.js';
import { runIfMain } from '../scripts/lib/files.js';
import { mixture } from './coverage-bench.js';

const K = 5;
const NEAR = 200;
const PROBE = 32;
const MAX_PROBE = 4096;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'index-dir': { type: 'string' },
      n: { type: 'string', default: '1000000' },
      ef: { type: 'string', default: '400' },
      sample: { type: 'string', default: '100' },
    },
  });
  const n = Number(values.n);
  const ef = Number(values.ef);
  const dir = values['index-dir'];
  if (!dir) throw new Error('--index-dir: where coverage-bench.ts saved reference-N.hnsw and candidate-N.hnsw');
  const ref = mixture(n, 0, 1);
  const cand = mixture(n, 4, 2);
  const refIndex = AnnIndex.load(`${dir}/reference-${n}.hnsw`, ef);
  const candIndex = AnnIndex.load(`${dir}/candidate-${n}.hnsw`, ef);
  const step = Math.max(1, Math.floor(n / Number(values.sample)));
  const sample = Array.from({ length: Math.min(n, Number(values.sample)) }, (_, t) => t * step);
  const near = await exactNeighbours(ref, subset(cand, sample).data, NEAR);

  // Self-query radius of each reference point near a sampled candidate (unreachable ones get exact radii in prdc).
  const forward = new Map<number, number>();
  for (const nb of near)
    for (const i of nb.ids)
      if (!forward.has(i)) {
        const r = refIndex.knn(row(ref, i), 4 * (K + 1));
        forward.set(i, foundItself(r, i) ? r.distances[K]! : -1);
      }
  const rows = [...forward.keys()];
  const exactList = await exactRadiiOf(ref, rows, K);
  const exact = new Map(rows.map((i, t) => [i, exactList[t]!]));
  for (const [i, r] of forward) if (r < 0) forward.set(i, exact.get(i)!);

  let agree = 0,
    wronglyIn = 0,
    inside = 0,
    byBall = 0,
    bySecond = 0,
    byNeither = 0,
    unsure = 0;
  const missed: { j: number; holders: number[]; found: number[] }[] = [];
  const tooLarge: number[] = [];
  near.forEach((nb, s) => {
    const j = sample[s]!;
    const holdsF = nb.ids.filter((i, t) => nb.distances[t]! <= forward.get(i)!);
    const holders = nb.ids.filter((i, t) => nb.distances[t]! <= exact.get(i)!);
    if (nb.distances[NEAR - 1]! <= Math.max(...nb.ids.map((i) => forward.get(i)!))) unsure++;
    if (holdsF.length > 0 === holders.length > 0) agree++;
    else if (!holders.length) {
      wronglyIn++;
      for (const i of holdsF) tooLarge.push(forward.get(i)! / exact.get(i)!);
    }
    if (!holders.length) return;
    inside++;
    const ballFinds = holders.some((i) => {
      const r = exact.get(i)!;
      for (let p = PROBE; ; p = Math.min(2 * p, MAX_PROBE)) {
        const q = candIndex.knn(row(ref, i), p);
        if (q.distances[q.distances.length - 1]! > r || p >= MAX_PROBE)
          return q.ids.some((id, t) => id === j && q.distances[t]! <= r);
      }
    });
    const second = refIndex.knn(row(cand, j), PROBE);
    if (ballFinds) byBall++;
    else if (second.ids.some((i, t) => exact.has(i) && second.distances[t]! <= exact.get(i)!)) bySecond++;
    else {
      byNeither++;
      missed.push({ j, holders, found: second.ids });
      console.log(
        `candidate ${j}: inside the ball(s) of reference points ranked ${holders.map((i) => nb.ids.indexOf(i) + 1).join(', ')} by distance from it; found by neither search`,
      );
    }
  });
  console.log(
    `self-query radii: ${agree} of ${sample.length} verdicts as with exact radii, ${wronglyIn} wrongly inside (radius / exact: ${tooLarge.map((r) => r.toFixed(3)).join(' ') || '—'}), ${sample.length - agree - wronglyIn} wrongly outside`,
  );
  console.log(
    `exactly inside: ${inside}; found by a ball query ${byBall}, by the second look ${bySecond}, by neither ${byNeither}`,
  );
  await whatWouldFind(ref, cand, refIndex, missed);
  console.log(
    `candidates whose ${NEAR}-th nearest reference point may still lie in a ball (their counts may be incomplete): ${unsure}`,
  );
}

/**
 * For the memberships neither search found: would a second look with the wide candidate list (WIDE_EF) find them, or
 * one that also checks the k-NN lists of the points it returned (forward: their own k nearest; reverse: the points
 * listing them)? Exact k-NN lists stand in for the radii's (self-recall ≥ 0.99 at the default ef).
 */
async function whatWouldFind(
  ref: VectorSet,
  cand: VectorSet,
  refIndex: AnnIndex,
  missed: { j: number; holders: number[]; found: number[] }[],
): Promise<void> {
  // Every list needed, from one exact pass over the set.
  const rows = [...new Set(missed.flatMap(({ holders, found }) => [...holders, ...found]))];
  const lists = new Map((await exactNeighbours(ref, subset(ref, rows).data, K + 1)).map((nb, t) => [rows[t]!, nb.ids]));
  let wide = 0,
    forwardHop = 0,
    reverseHop = 0;
  for (const { j, holders, found } of missed) {
    const w = refIndex.knn(row(cand, j), PROBE, WIDE_EF);
    if (holders.some((h) => w.ids.includes(h))) wide++;
    if (holders.some((h) => found.some((i) => lists.get(i)!.includes(h)))) forwardHop++;
    if (holders.some((h) => lists.get(h)!.some((i) => found.includes(i)))) reverseHop++;
  }
  console.log(
    `of ${missed.length} found by neither: a wide second look (ef ${WIDE_EF}) finds ${wide}; the returned points' k-NN lists hold the centre for ${forwardHop}; the centre's list holds a returned point for ${reverseHop}`,
  );
}

runIfMain(import.meta.url, main);
