/**
 * A hand-built detect / audit / tails output (no model needed), whose queue is worked out by hand in review.test.ts:
 * threshold 0.5, detections d0–d9 with known scores (d5 of declared provenance), a corpus with awkward texts
 * (commas, quotes, newlines, CRLF, non-ASCII) behind a score directory, tails {d9, t1}, held audit rows {d2, d8}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeRows, writeScoreDir } from '../detect/fake-scores.js';

export const THRESHOLD = 0.5;
export const SCORES: Record<string, number> = {
  d0: 0.9,
  d1: 0.52,
  d2: 0.45,
  d3: 0.05,
  d4: 0.6,
  d5: 0.49,
  d6: 0.7,
  d7: 0.33,
  d8: 0.56,
  d9: 0.99,
};
export const TEXTS: Record<string, string> = {
  d0: 'Plain text.',
  d1: 'Commas, and "quotes", and a\nnewline.',
  d2: 'A "quoted" word, then ""double"" quotes.',
  d3: 'Tabs\there',
  d4: 'Line one\r\nline two (CRLF)',
  d5: 'Declared human.',
  d6: 'Ünïcödé — “curly” quotes, é',
  d7: ',leading comma',
  d8: 'trailing comma,',
  d9: '"entirely quoted"',
  t1: 'A tail document,\nnot among the detections.',
  h1: 'unused',
};

export function writeFixture(dir: string): { detections: string; audit: string; tails: string; scores: string } {
  mkdirSync(dir, { recursive: true });
  const corpus = join(dir, 'corpus.jsonl');
  const ids = Object.keys(TEXTS);
  writeFileSync(corpus, ids.map((id) => JSON.stringify({ id, text: TEXTS[id] })).join('\n') + '\n');
  const scores = writeScoreDir(
    join(dir, 'scores'),
    fakeRows(ids.length, false, 1).map((r, i) => ({ ...r, id: ids[i]!, line: i + 1 })),
    { input: corpus },
  );
  const det = join(dir, 'det');
  mkdirSync(det, { recursive: true });
  writeFileSync(
    join(det, 'detections.jsonl'),
    Object.entries(SCORES)
      .map(([id, score], i) =>
        JSON.stringify({
          id,
          line: i + 1,
          p_synthetic: 1 / (1 + Math.exp(-score)),
          score,
          verdict: score > THRESHOLD ? 'synthetic' : 'human',
          provenance: id === 'd5' ? 'human-verified' : score > THRESHOLD ? 'synthetic-suspected' : 'human-unverified',
          detector: 'pooled',
        }),
      )
      .join('\n') + '\n',
  );
  writeFileSync(
    join(det, 'summary.json'),
    JSON.stringify({
      detector: { threshold: THRESHOLD, source: join(dir, 'detector.json'), zero_shot: false },
      scores,
    }),
  );
  const audit = join(dir, 'audit');
  mkdirSync(audit, { recursive: true });
  const decisions = [
    { line: 1, id: 'd2', batch: 0, decision: 'held' },
    { line: 2, id: 'd3', batch: 1, decision: 'accepted' },
    { line: 3, id: 'd8', batch: 0, decision: 'held' },
    { line: 4, id: null, batch: null, decision: 'rejected' },
  ];
  writeFileSync(join(audit, 'decisions.jsonl'), decisions.map((d) => JSON.stringify(d)).join('\n') + '\n');
  writeFileSync(
    join(audit, 'batches.jsonl'),
    [
      { batch: 0, key: '0', decision: 'HOLD_FOR_REVIEW', reasons: ['entropy 3.100 bits < floor 4.000'] },
      { batch: 1, key: '1', decision: 'PROCEED', reasons: [] },
    ]
      .map((d) => JSON.stringify(d))
      .join('\n') + '\n',
  );
  const tails = join(dir, 'tails.jsonl');
  writeFileSync(
    tails,
    [
      { id: 'd9', region: 3 },
      { id: 't1', region: 5 },
    ]
      .map((d) => JSON.stringify(d))
      .join('\n') + '\n',
  );
  return { detections: join(det, 'detections.jsonl'), audit, tails, scores };
}
