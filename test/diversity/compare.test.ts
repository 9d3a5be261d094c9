/** tailguard compare over three generations scored by the real engine: the collapsed one is flagged. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scoreCorpus } from '../../src/score/score-corpus.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('tailguard compare', () => {
  it('a generation that repeats itself is flagged as early collapse; the ledger holds every metric', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-compare-'));
    const sample = readFileSync(join(ROOT, 'examples', 'sample.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; text: string });
    const gens = [
      sample.slice(0, 13),
      sample.slice(13),
      Array.from({ length: 13 }, (_, i) => ({ id: `c${i}`, text: `Once upon a time, there was a little girl named Lily. She liked to play. She was happy. Day ${i % 2}.` })),
    ];
    const dirs: string[] = [];
    for (const [g, docs] of gens.entries()) {
      writeFileSync(join(dir, `gen${g}.jsonl`), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
      await scoreCorpus({ input: join(dir, `gen${g}.jsonl`), out: join(dir, `s${g}`), model: 'stories260k', device: 'cpu', idField: 'id' });
      dirs.push(join(dir, `s${g}`));
    }
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'run.ts'), 'compare', ...dirs, '--out', join(dir, 'cmp'), '--k', '3', '--fail-on-collapse', '--json'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/WARNING: early collapse at generation 2: .*distinct-2/);
    const ledger = JSON.parse(readFileSync(join(dir, 'cmp', 'ledger.json'), 'utf8'));
    expect(ledger.generations).toHaveLength(3);
    expect(ledger.flags.map((f: { generation: number }) => f.generation)).toEqual([2]);
    const [g0, , g2] = ledger.generations;
    expect(g0.coverage_of_gen0).toBeNull();
    expect(g2.diversity.distinct[2]).toBeLessThan(g0.diversity.distinct[2]);
    expect(g2.diversity.self_bleu).toBeGreaterThan(g0.diversity.self_bleu);
    expect(g2.perplexity).toBeLessThan(g0.perplexity);
    for (const m of ['precision', 'recall', 'density', 'coverage']) expect(typeof g2.coverage_of_gen0[m].value).toBe('number');
  });
});
