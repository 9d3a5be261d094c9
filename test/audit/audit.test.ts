/** The batch entropy gate: hand-checked batch statistics, floors from a reference, and complete accounting. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditCorpus, decide } from '../../src/audit/audit-corpus.js';
import { readJsonl, runCli } from '../helpers/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tailguard-audit-'));

/** Varied "human" documents: words drawn from a large vocabulary; collapsed ones repeat a few words. */
function doc(i: number, collapsed: boolean): string {
  if (collapsed) return 'the model said the model said the same thing again and again';
  return Array.from({ length: 30 }, (_, k) => `w${(i * 31 + k * 17) % 997}`).join(' ') + '.';
}

describe('auditCorpus', () => {
  it('hand-checked batch statistics: pooled words "a a b c" → entropy 1.5 bits, TTR 0.75', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'in.jsonl'), ['{"text":"a a"}', '{"text":"b c"}'].join('\n') + '\n');
    const s = await auditCorpus({ input: join(dir, 'in.jsonl'), out: join(dir, 'o'), batchSize: 2, entropyFloor: 1.6 });
    const [b] = readJsonl(join(dir, 'o', 'batches.jsonl'));
    expect(b).toMatchObject({ documents: 2, words: 4, entropy: 1.5, ttr: 0.75, decision: 'HOLD_FOR_REVIEW' });
    expect(b!.reasons).toEqual(['entropy 1.500 bits < floor 1.600']);
    expect(s.counts).toEqual({ input_rows: 2, accepted: 0, held: 2, rejected: 0 });
  });

  it('decide: no floor given for a statistic means it is not checked', () => {
    const stats = { batch: 0, key: '0', documents: 3, words: 10, entropy: 2, ttr: 0.3 };
    expect(decide(stats, { entropy: null, ttr: 0.5, source: 'given' }).reasons).toEqual(['TTR 0.3000 < floor 0.5000']);
    expect(decide(stats, { entropy: 1, ttr: null, source: 'given' }).decision).toBe('PROCEED');
  });

  it('floors from a human reference hold the collapsed batch only; every row is accounted for', async () => {
    const dir = tmp();
    const human = Array.from({ length: 200 }, (_, i) => JSON.stringify({ text: doc(i, false) }));
    writeFileSync(join(dir, 'ref.jsonl'), human.join('\n') + '\n');
    // Batches of 10: batch 0 and 2 varied, batch 1 collapsed; plus one unreadable row.
    const rows = [
      ...Array.from({ length: 10 }, (_, i) => ({ id: `a${i}`, text: doc(1000 + i, false) })),
      ...Array.from({ length: 10 }, (_, i) => ({ id: `b${i}`, text: doc(i, true) })),
      ...Array.from({ length: 10 }, (_, i) => ({ id: `c${i}`, text: doc(2000 + i, false) })),
    ].map((r) => JSON.stringify(r));
    rows.splice(5, 0, '{"id": "bad", "text": 7}');
    writeFileSync(join(dir, 'in.jsonl'), rows.join('\n') + '\n');
    const r = runCli([
      'audit',
      join(dir, 'in.jsonl'),
      '--out',
      join(dir, 'o'),
      '--id-field',
      'id',
      '--batch-size',
      '10',
      '--reference',
      join(dir, 'ref.jsonl'),
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(3);
    const s = JSON.parse(r.stdout);
    expect(s.floors.source).toMatch(/^p5 of 20 batches of 10 documents/);
    expect(s.batches).toEqual({ total: 3, proceed: 2, hold_for_review: 1 });
    expect(s.counts).toEqual({ input_rows: 31, accepted: 20, held: 10, rejected: 1 });
    const decisions = readJsonl(join(dir, 'o', 'decisions.jsonl'));
    expect(decisions).toHaveLength(31);
    expect(decisions.filter((d) => d.decision === 'held').map((d) => d.id)).toEqual(
      Array.from({ length: 10 }, (_, i) => `b${i}`),
    );
    const gate = readJsonl(join(dir, 'o', 'gate.jsonl'));
    expect(gate.map((g) => g.kind)).toEqual(['batch', 'document']);
    expect(gate[0]).toMatchObject({ batch: 1, decision: 'held' });
    expect(gate[1]).toMatchObject({ id: 'bad', decision: 'rejected' });
  });

  it('batches by a grouping field, and exits 2 without any floor', async () => {
    const dir = tmp();
    writeFileSync(
      join(dir, 'in.jsonl'),
      ['{"g":"x","text":"one two"}', '{"g":"y","text":"same same"}', '{"g":"x","text":"three four"}'].join('\n') + '\n',
    );
    const s = await auditCorpus({ input: join(dir, 'in.jsonl'), out: join(dir, 'o'), groupField: 'g', ttrFloor: 0.9 });
    const batches = readJsonl(join(dir, 'o', 'batches.jsonl'));
    expect(batches.map((b) => [b.key, b.documents, b.ttr, b.decision])).toEqual([
      ['x', 2, 1, 'PROCEED'],
      ['y', 1, 0.5, 'HOLD_FOR_REVIEW'],
    ]);
    expect(s.counts).toEqual({ input_rows: 3, accepted: 2, held: 1, rejected: 0 });
    const r = runCli(['audit', join(dir, 'in.jsonl'), '--out', join(dir, 'o2')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/give a floor/);
  });
});
