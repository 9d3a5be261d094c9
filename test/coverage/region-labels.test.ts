/**
 * Region labels: c-TF-IDF against a hand-computed example, the tokenizer, vocabulary pruning, a finance region that
 * reads as finance, and labels in coverage's and weights' report.json and in their per-document rows.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { parquetReadObjects } from 'hyparquet';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClassTermCounts, labelWords } from '../../src/coverage/ctfidf.js';
import { regionLabels } from '../../src/coverage/region-labels.js';
import { loadVectors } from '../../src/coverage/vectors.js';
import { weightsRun } from '../../src/weights/weights-run.js';
import { blobs, saveNpy } from './synthetic.js';
import { REGION_TOPICS, saveTopicSets, TOPICS, topicText, type Topic } from './topic-texts.js';
import { readJsonl, runCli, setArgs } from '../helpers/cli.js';

describe('c-TF-IDF', () => {
  it('equals the hand-computed weights of a two-class example', () => {
    // Class 0: apple ×2, banana ×1 (3 words); class 1: banana, cherry (2 words). A = 2.5; f: apple 2, banana 2, cherry 1.
    const c = new ClassTermCounts(2);
    c.add(0, 'Apple and the apple');
    c.add(0, 'banana');
    c.add(1, 'banana, cherry!');
    const top = c.topTerms(5);
    // W(apple,0) = 2/3·ln(1 + 2.5/2) = 2/3·ln 2.25; W(banana,0) = 1/3·ln 2.25; W(cherry,1) = 1/2·ln 3.5; W(banana,1) = 1/2·ln 2.25
    const ln225 = 0.8109302162163288;
    const ln35 = 1.252762968495368;
    expect(top[0]!.map((t) => t.term)).toEqual(['apple', 'banana']);
    expect(top[0]![0]!.score).toBeCloseTo((2 / 3) * ln225, 12);
    expect(top[0]![1]!.score).toBeCloseTo((1 / 3) * ln225, 12);
    expect(top[1]!.map((t) => t.term)).toEqual(['cherry', 'banana']);
    expect(top[1]![0]!.score).toBeCloseTo(0.5 * ln35, 12);
    expect(top[1]![1]!.score).toBeCloseTo(0.5 * ln225, 12);
    expect(Array.from(c.classWords)).toEqual([3, 2]);
  });

  it('keeps the top n, ties by word; an empty class has no terms; A counts only classes with words', () => {
    const c = new ClassTermCounts(3);
    c.add(0, 'zeta alpha beta gamma delta epsilon');
    c.add(2, 'zeta');
    const top = c.topTerms(3);
    // Class 0: six words once each, |c| = 6, A = (6 + 1)/2 = 3.5; zeta has f = 2, the others f = 1.
    expect(top[0]!.map((t) => t.term)).toEqual(['alpha', 'beta', 'delta']);
    expect(top[0]![0]!.score).toBeCloseTo((1 / 6) * Math.log(1 + 3.5), 12);
    expect(top[1]).toEqual([]);
    expect(top[2]).toEqual([{ term: 'zeta', score: Math.log(1 + 3.5 / 2) }]);
  });

  it('words: lowercase runs of letters and digits, 2+ characters, not only digits, no stopwords', () => {
    expect(labelWords('The U.S. said 3 mln-dlr Net, in 1986: Ölpreis 1,000 q3 4x4')).toEqual([
      'mln',
      'dlr',
      'net',
      'ölpreis',
      'q3',
      '4x4',
    ]);
  });

  it('past the vocabulary cap, the rarest words are pruned and counted', () => {
    const c = new ClassTermCounts(1, 4);
    c.add(0, 'aa aa aa bb cc dd');
    expect(c.vocabulary).toBe(4);
    c.add(0, 'ee'); // 5th word: prune counts ≤ 1 (bb cc dd) → 1 left, then ee
    expect(c.prunedWords).toBe(3);
    expect(c.vocabulary).toBe(2);
    expect(c.classWords[0]).toBe(7);
    expect(c.topTerms(5)[0]!.map((t) => t.term)).toEqual(['aa', 'ee']);
  });
});

describe('regionLabels', () => {
  it('a region of finance documents is labelled with finance words; without texts, the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-labels-'));
    const topics: Topic[] = ['finance', 'cooking', 'sports'];
    const n = 90;
    const texts = Array.from({ length: n }, (_, i) => topicText(topics[i % 3]!, i + 1));
    const assign = Int32Array.from({ length: n }, (_, i) => i % 3);
    const ids = texts.map((_, i) => `d${i}`);
    saveNpy(join(dir, 'ref'), { data: new Float32Array(n * 2), dim: 2 }, ids, texts);
    const set = loadVectors(join(dir, 'ref.npy'));
    const r = await regionLabels(set, assign, 3);
    expect(r.missing).toBeUndefined();
    expect(r.info).toMatchObject({ method: 'c-TF-IDF', documents: n, pruned_words: 0, top_terms: 5 });
    topics.forEach((topic, c) => {
      expect(r.labels[c]!.top_terms).toHaveLength(5);
      for (const t of r.labels[c]!.top_terms) expect(TOPICS[topic]).toContain(t.term);
      expect(r.labels[c]!.label).toBe(r.labels[c]!.top_terms.map((t) => t.term).join(', '));
    });

    saveNpy(join(dir, 'bare'), { data: new Float32Array(4), dim: 2 });
    const none = await regionLabels(loadVectors(join(dir, 'bare.npy')), Int32Array.from([0, 1]), 2);
    expect(none.labels).toEqual([
      { label: null, top_terms: [] },
      { label: null, top_terms: [] },
    ]);
    expect(none.missing).toMatch(/no .*bare\.jsonl beside the \.npy/);
  });
});

describe('labels in coverage and weights output', () => {
  it("coverage: every region of report.json carries its label; reference.jsonl and candidate.jsonl each document's region", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-labels-cov-'));
    const { ref } = saveTopicSets(dir, 150, 120);
    const out = join(dir, 'cov');
    const r = runCli(['coverage', ...setArgs(dir, { out: 'cov', clusters: 3 }), '--search', 'exact', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.region_labels).toMatchObject({ method: 'c-TF-IDF', documents: 150, pruned_words: 0 });
    const rows = (f: string) => readJsonl<{ region: number; region_label: string }>(join(out, f));
    const labelOf = new Map(report.clusters.map((c: { cluster: number; label: string }) => [c.cluster, c.label]));
    for (const f of ['reference.jsonl', 'candidate.jsonl'])
      for (const x of rows(f)) expect(x.region_label).toBe(labelOf.get(x.region));
    const refRegions = rows('reference.jsonl').map((x) => x.region);
    expect(refRegions).toHaveLength(150);
    // Each k-means region is one blob, so one topic: its label words all come from that topic.
    for (const c of report.clusters) {
      const members = refRegions.flatMap((g, i) => (g === c.cluster ? [ref.cluster[i]!] : []));
      expect(new Set(members).size).toBe(1);
      expect(members.length).toBe(c.reference_documents);
      const topic = REGION_TOPICS[members[0]!]!;
      expect(c.top_terms).toHaveLength(5);
      for (const t of c.top_terms) expect(TOPICS[topic]).toContain(t.term);
      expect(c.label).toBe(c.top_terms.map((t: { term: string }) => t.term).join(', '));
    }
    const candRegions = rows('candidate.jsonl').map((x) => x.region);
    for (const c of report.clusters)
      expect(candRegions.filter((g) => g === c.cluster).length).toBe(c.candidate_documents);
    // The sports region is the absent tail, and the HTML names it.
    const sports = report.clusters.find((c: { label: string }) => TOPICS.sports.includes(c.label.split(', ')[0]!));
    expect(report.tails).toEqual([sports.cluster]);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain(sports.label);
  });

  it('weights: per_cluster carries labels; without texts, region_labels_missing says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-labels-w-'));
    const opts = { dim: 8, centresSeed: 5, centreScale: 3, spread: 0.15 };
    const ref = blobs(90, [1, 1], 1, opts);
    const cand = blobs(60, [2, 1], 2, opts);
    saveNpy(
      join(dir, 'ref'),
      ref,
      ref.ids,
      ref.cluster.map((c, i) => topicText(c ? 'cooking' : 'finance', i)),
    );
    saveNpy(join(dir, 'cand'), cand, cand.ids);
    const r = await weightsRun({
      reference: join(dir, 'ref.npy'),
      candidate: join(dir, 'cand.npy'),
      out: join(dir, 'w'),
      clusters: 2,
    });
    expect(r.region_labels?.documents).toBe(90);
    for (const c of r.per_cluster) expect(c.label).toMatch(/^\w+, \w+, \w+, \w+, \w+$/);
    expect(readFileSync(join(dir, 'w', 'report.html'), 'utf8')).toContain(r.per_cluster[0]!.label!);
    // Each weights row names its cluster's label, in JSONL and Parquet alike.
    const labelOf = new Map(r.per_cluster.map((c) => [c.cluster, c.label]));
    const wrows = readJsonl<{ cluster: number; region_label: string | null }>(join(dir, 'w', 'weights.jsonl'));
    expect(wrows).toHaveLength(60);
    for (const w of wrows) expect(w.region_label).toBe(labelOf.get(w.cluster));
    const buf = readFileSync(join(dir, 'w', 'weights.parquet'));
    const pq = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) });
    expect(pq.map((x) => x.region_label)).toEqual(wrows.map((w) => w.region_label));

    saveNpy(join(dir, 'bare'), ref);
    const bare = await weightsRun({
      reference: join(dir, 'bare.npy'),
      candidate: join(dir, 'cand.npy'),
      out: join(dir, 'w2'),
      clusters: 2,
    });
    expect(bare.region_labels).toBeUndefined();
    expect(bare.region_labels_missing).toMatch(/bare\.jsonl/);
    expect(bare.per_cluster.map((c) => c.label)).toEqual([null, null]);
    const bareRows = readJsonl<{ region_label: string | null }>(join(dir, 'w2', 'weights.jsonl'));
    expect(bareRows.every((w) => w.region_label === null)).toBe(true);
  });
});
