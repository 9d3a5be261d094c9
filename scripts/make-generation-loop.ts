/**
 * Writes the corpora of a simulated recursive-training loop (scripts/lib/generation-loop.ts): OUT/gen0.jsonl (the
 * human anchor) … OUT/genG.jsonl, one `{id, text}` per line, ready for `tailguard score` and then `tailguard compare`.
 *
 *   node --import tsx scripts/make-generation-loop.ts --regime replace|accumulate --out DIR [--generations 5]
 *     [--documents 200] [--seed 1] [--human test/fixtures/human-sotu/sotu.jsonl]
 */
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { HUMAN_FIXTURE, humanDocuments, runLoop, writeGenerations, type Regime } from './lib/generation-loop.js';

const { values } = parseArgs({
  options: {
    regime: { type: 'string' },
    out: { type: 'string' },
    generations: { type: 'string', default: '5' },
    documents: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
    human: { type: 'string', default: HUMAN_FIXTURE },
  },
});
if ((values.regime !== 'replace' && values.regime !== 'accumulate') || !values.out) {
  process.stderr.write(
    'usage: make-generation-loop.ts --regime replace|accumulate --out DIR [--generations G] [--documents N] [--seed S] [--human FILE]\n',
  );
  process.exit(2);
}
mkdirSync(values.out, { recursive: true });
const human = humanDocuments(Number(values.documents), values.human);
const gens = runLoop(human, {
  regime: values.regime as Regime,
  generations: Number(values.generations),
  seed: Number(values.seed),
});
for (const p of writeGenerations(values.out, gens)) process.stderr.write(`${p}\n`);
