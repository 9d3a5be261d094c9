/**
 * Writes test/fixtures/human-sotu/sotu.jsonl, the human anchor (GEN0) of the generation-loop simulation
 * (scripts/lib/generation-loop.ts): passages of US State of the Union addresses (public domain), taken from the
 * `sotu_addresses` records of a human corpus in the shared gzip JSONL layout (`{text, source, id}` per line).
 *
 *   node --import tsx scripts/make-human-fixture.ts [--corpus ../shared/corpora/human] [--out test/fixtures/human-sotu/sotu.jsonl]
 *
 * Deterministic: the addresses sorted by id, every 8th one from the first, the first 20 passages of each; a passage
 * is whole sentences (src/signals/text-signals.ts splitSentences) gathered until it holds at least 60 words, kept
 * when it holds at most 140.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { splitSentences, wordTokens } from '../src/signals/text-signals.js';

const { values } = parseArgs({
  options: {
    corpus: { type: 'string', default: join(import.meta.dirname, '..', '..', 'shared', 'corpora', 'human') },
    out: { type: 'string' },
  },
});
const out = values.out ?? join(import.meta.dirname, '..', 'test', 'fixtures', 'human-sotu', 'sotu.jsonl');

const addresses: { id: string; text: string }[] = [];
for (const f of readdirSync(values.corpus)
  .filter((f) => /^human-\d+\.jsonl\.gz$/.test(f))
  .sort()) {
  for (const line of gunzipSync(readFileSync(join(values.corpus, f)))
    .toString('utf8')
    .split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { text: string; source: string; id: string };
    if (r.source === 'sotu_addresses') addresses.push({ id: r.id, text: r.text });
  }
}
addresses.sort((a, b) => (a.id < b.id ? -1 : 1));

const rows: string[] = [];
for (let a = 0; a < addresses.length; a += 8) {
  const { id, text } = addresses[a]!;
  let passage: string[] = [];
  let words = 0;
  let kept = 0;
  for (const s of splitSentences(text)) {
    passage.push(s.replace(/\s+/g, ' '));
    words += wordTokens(s).length;
    if (words < 60) continue;
    if (words <= 140) rows.push(JSON.stringify({ id: `${id}#${kept++}`, text: passage.join(' ') }));
    passage = [];
    words = 0;
    if (kept === 20) break;
  }
}
writeFileSync(out, rows.join('\n') + '\n');
process.stderr.write(`${rows.length} passages from ${Math.ceil(addresses.length / 8)} addresses → ${out}\n`);
