#!/usr/bin/env node
// Rebuilds examples/sample.jsonl: a few children's stories written for this project (what the bundled
// stories260k model knows) and the first documents of each redistributable source (public domain,
// CC0/PDDL, MIT/Apache, CC BY-SA) in ../shared/corpora/human/heldout.jsonl, cut to 4,000 characters.
//   node scripts/make-sample.mjs [path/to/heldout.jsonl]
import { readFileSync, writeFileSync } from 'node:fs';

const heldout = process.argv[2] ?? new URL('../../shared/corpora/human/heldout.jsonl', import.meta.url).pathname;
const PER_SOURCE = {
  gutenberg_books: 4,
  kjv_bible: 3,
  sotu_addresses: 1,
  miller_center_speeches: 2,
  python_peps: 2,
  rust_rfcs: 2,
  stackexchange: 3,
  jargon_file: 1,
  devils_dictionary: 1,
  spamassassin_ham: 2,
};
const stories = [
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.',
  'Tom had a big red ball. He liked to throw it high in the sky. One day, the ball went over the fence. Tom was sad. His mom helped him get it back, and Tom said, "Thank you, Mom!"',
  'Once upon a time, there was a little cat named Tim. Tim liked to nap in the sun. One day, a bird came to the window. Tim wanted to play with the bird, but the bird flew away. Tim went back to his nap, happy and warm.',
  'Sue and Ben went to the beach. They made a big sand castle with a tall tower. A wave came and took the castle away. Sue laughed and said, "Let\'s make another one!"',
  'There was a small dog named Max. Max was very hungry. He looked for food in the kitchen. He found a bone under the table. Max was so happy that he wagged his tail all day.',
];
const rows = stories.map((text, i) => ({ id: `story-${i + 1}`, source: 'written-for-tailguard', text }));
const taken = {};
for (const line of readFileSync(heldout, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const r = JSON.parse(line);
  if (!(r.source in PER_SOURCE) || (taken[r.source] ?? 0) >= PER_SOURCE[r.source]) continue;
  taken[r.source] = (taken[r.source] ?? 0) + 1;
  rows.push({ id: r.id, source: r.source, text: r.text.length > 4000 ? r.text.slice(0, 4000) : r.text });
}
writeFileSync(
  new URL('../examples/sample.jsonl', import.meta.url),
  rows.map((r) => JSON.stringify(r)).join('\n') + '\n',
);
console.log(`wrote ${rows.length} documents`);
