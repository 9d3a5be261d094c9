/**
 * The review loop on real outputs: `detect` (the bundled model's zero-shot detector) and `audit` on ten documents of
 * the sample, then `review export` and `review import` on what they wrote. The queue's near_threshold order is
 * recomputed here from detections.jsonl and summary.json's threshold.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, readJsonl, runCli } from '../helpers/cli.js';

describe('detect → audit → review export → review import', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-review-e2e-'));
  const corpus = join(dir, 'ten.jsonl');
  let docs: { id: string; text: string }[];
  beforeAll(() => {
    const lines = readFileSync(join(ROOT, 'examples', 'sample.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .slice(0, 10);
    writeFileSync(corpus, lines.join('\n') + '\n');
    docs = lines.map((l) => JSON.parse(l) as { id: string; text: string });
    const d = runCli(['detect', corpus, '--id-field', 'id', '--out', join(dir, 'det'), '-q']);
    expect(d.status, d.stderr).toBe(0);
    // Floors that hold exactly the first batch of five (its pooled words are the fewest: the short stories).
    const a = runCli([
      'audit',
      corpus,
      '--id-field',
      'id',
      '--out',
      join(dir, 'audit'),
      '--batch-size',
      '5',
      '--entropy-floor',
      '7',
      '-q',
    ]);
    expect([0, 3]).toContain(a.status);
  }, 120_000);

  it('queues the detections nearest the threshold, tails and held rows, with their texts', () => {
    writeFileSync(join(dir, 'tails.jsonl'), `${JSON.stringify({ id: docs[9]!.id, region: 4 })}\n`);
    const r = runCli([
      'review',
      'export',
      '--detections',
      join(dir, 'det'),
      '--audit',
      join(dir, 'audit'),
      '--tails',
      join(dir, 'tails.jsonl'),
      '--out',
      join(dir, 'q'),
      '--budget',
      '5',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const threshold = JSON.parse(readFileSync(join(dir, 'det', 'summary.json'), 'utf8')).detector.threshold as number;
    const det = readJsonl(join(dir, 'det', 'detections.jsonl'));
    const byDistance = det
      .map((x) => ({ id: x.id as string, d: Math.abs((x.score as number) - threshold) }))
      .sort((a, b) => a.d - b.d)
      .map((x) => x.id);
    const held = readJsonl(join(dir, 'audit', 'decisions.jsonl'))
      .filter((x) => x.decision === 'held')
      .map((x) => x.id as string);
    const q = readJsonl(join(dir, 'q', 'queue.jsonl'));
    const takenFor = (reason: string) => q.filter((x) => x.selected_for === reason).map((x) => x.id);
    const near = takenFor('near_threshold');
    // near_threshold's picks are the nearest documents not taken earlier by another reason, in distance order.
    const others = new Set(q.filter((x) => x.selected_for !== 'near_threshold').map((x) => x.id));
    expect(near).toEqual(byDistance.filter((id) => !others.has(id)).slice(0, near.length));
    // The one tail document is queued (by its own turn, or earlier by near_threshold's) and listed as a tail.
    expect(q.find((x) => x.id === docs[9]!.id)?.reasons).toContain('tail_region');
    expect(held).toEqual(docs.slice(0, 5).map((d) => d.id)); // the first batch of five is held
    expect(takenFor('held_batch').length).toBeGreaterThan(0);
    for (const x of q) expect((x.reasons as string[]).includes('held_batch')).toBe(held.includes(x.id as string));
    expect(q).toHaveLength(5);
    for (const x of q) expect(x.text).toBe(docs.find((d) => d.id === x.id)!.text);
  });

  it('reads the verdicts back into the log', () => {
    const q = readJsonl(join(dir, 'q', 'queue.jsonl'));
    const filled = q.map((x, i) => ({ ...x, verdict: i % 2 ? 'human' : 'machine', reviewer: 'e2e' }));
    writeFileSync(join(dir, 'q', 'filled.jsonl'), filled.map((x) => JSON.stringify(x)).join('\n') + '\n');
    const r = runCli(['review', 'import', join(dir, 'q', 'filled.jsonl'), '--log', join(dir, 'log.jsonl')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('logged 5 (human 2, machine 3, unsure 0)');
    expect(readJsonl(join(dir, 'log.jsonl')).map((x) => x.id)).toEqual(q.map((x) => x.id));
  });
});
