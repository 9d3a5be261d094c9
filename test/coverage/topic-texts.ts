/** Short texts on known topics (seeded), for tests whose regions should read as their topic. */
import { mulberry32 } from '../../src/random.js';

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
