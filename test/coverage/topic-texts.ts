/**
 * Short texts on known topics (seeded), for tests whose regions should read as their topic; and a reference and
 * candidate .npy pair whose regions are those topics.
 */
import { join } from 'node:path';
import { mulberry32 } from '../../src/random.js';
import { blobs, saveNpy } from './synthetic.js';

export const TOPICS = {
  finance: ['shares', 'dividend', 'profit', 'quarterly', 'revenue', 'earnings', 'stock', 'investors'],
  cooking: ['flour', 'butter', 'oven', 'bake', 'sugar', 'recipe', 'dough', 'whisk'],
  sports: ['goal', 'match', 'striker', 'referee', 'league', 'season', 'coach', 'penalty'],
};
const COMMON = ['today', 'people', 'report', 'new', 'week'];
export type Topic = keyof typeof TOPICS;

/** A sentence of 6 topic words and 4 common ones, with stopwords between (seeded). */
export function topicText(topic: Topic, seed: number): string {
  const rng = mulberry32(seed);
  const pick = (xs: string[]) => xs[Math.floor(rng() * xs.length)]!;
  const words = [
    ...Array.from({ length: 6 }, () => pick(TOPICS[topic])),
    ...Array.from({ length: 4 }, () => pick(COMMON)),
  ];
  return `The ${words.join(' and the ')}.`;
}

/** The topic of each region of saveTopicSets' sets, in region order. */
export const REGION_TOPICS: readonly Topic[] = ['finance', 'cooking', 'sports'];

/**
 * dir/ref.npy and dir/cand.npy, 8-d blobs in one space: nRef reference rows over the three regions of REGION_TOPICS
 * (ids r0…, texts in the sidecar: text(topic, row), topicText(topic, row + 1) when not given), nCand candidate rows
 * (ids c0…, no texts) that lack the last region (sports). Returns the reference and its texts.
 */
export function saveTopicSets(
  dir: string,
  nRef: number,
  nCand: number,
  text: (topic: Topic, row: number) => string = (topic, row) => topicText(topic, row + 1),
) {
  const opts = { dim: 8, centresSeed: 5, centreScale: 3, spread: 0.15, idPrefix: 'r' };
  const ref = blobs(nRef, [1, 1, 1], 1, opts);
  const cand = blobs(nCand, [1, 1, 0], 2, { ...opts, idPrefix: 'c' });
  const texts = ref.cluster.map((c, i) => text(REGION_TOPICS[c]!, i));
  saveNpy(join(dir, 'ref'), ref, ref.ids, texts);
  saveNpy(join(dir, 'cand'), cand, cand.ids);
  return { ref, texts };
}
