/**
 * checkAnchor on hand-built corpora whose present / missing / altered / repeated counts and share are known, against
 * a naive string-comparing recount on random corpora, with detections over either side, score directories, the
 * ledger, and a mix that streams through without being held.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AnchorSet } from '../../src/anchor/anchor-set.js';
import { checkAnchor } from '../../src/anchor/check-anchor.js';
import { HashChains, normaliseText } from '../../src/anchor/hashing.js';
import { scanMix } from '../../src/anchor/mix-scan.js';
import type { SourceDoc } from '../../src/anchor/sources.js';
import { InputError, UsageError } from '../../src/errors.js';
import { jsonlToParquet } from '../../src/io/parquet-from-jsonl.js';
import { mulberry32 } from '../../src/random.js';
import { fakeRows, writeScoreDir } from '../detect/fake-scores.js';
import { readJsonl, toJsonl, writeJsonl } from '../helpers/cli.js';

type Row = { id?: string; text: string };

const ANCHOR: Row[] = [
  { id: 'a1', text: 'The quick brown fox.' },
  { id: 'a2', text: 'Jumps over the lazy dog.' },
  { id: 'a3', text: 'A third human sentence.' },
  { id: 'a4', text: 'Fourth one, never copied.' },
  { id: 'a5', text: 'Fifth, also gone.' },
  { id: 'a6', text: 'full WIDTH file' },
];
const MIX: Row[] = [
  { id: 'a1', text: 'The quick brown fox.' }, // 1: a1 by id and text
  { id: 'm1', text: 'synthetic one' }, // 2
  { id: 'x9', text: 'Jumps over the lazy dog.' }, // 3: a2 by text, under another id
  { id: 'a3', text: 'A changed third sentence.' }, // 4: a3's id, another text: altered
  { id: 'a1b', text: '  the QUICK\n brown\tfox. ' }, // 5: a1 again by text (case and white space differ)
  { id: 'a6', text: 'ＦＵＬＬ width ﬁle' }, // 6: a6 by id and by text after NFKC (full-width letters, ligature)
  { id: 'm2', text: 'synthetic two' }, // 7
  { text: 'synthetic three' }, // 8: no id
  { id: 'm4', text: 'Fourth one, never copied!' }, // 9: near a4, not equal
];

function corpora(anchor: Row[] = ANCHOR, mix: Row[] = MIX): { dir: string; anchor: string; mix: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-anchor-'));
  writeJsonl(join(dir, 'anchor.jsonl'), anchor);
  writeJsonl(join(dir, 'mix.jsonl'), mix);
  return { dir, anchor: join(dir, 'anchor.jsonl'), mix: join(dir, 'mix.jsonl') };
}

describe('checkAnchor on a hand-built mix', () => {
  it('counts presence by id, by text and by either, missing, altered, repeats and the share', async () => {
    const c = corpora();
    const r = await checkAnchor({ mix: c.mix, anchor: c.anchor, idField: 'id', out: join(c.dir, 'out') });
    expect(r.anchor.documents).toBe(6);
    expect(r.mix).toMatchObject({ rows: 9, rows_without_id: 1 });
    expect(r.id_matching).toBe(true);
    // by id: a1, a3, a6; by text: a1, a2, a6; either: a1, a2, a3, a6.
    expect(r.present).toEqual({ by_id: 3, by_text: 3, by_either: 4 });
    expect(r.missing.documents).toBe(2);
    expect(r.missing.examples).toEqual([
      { id: 'a4', line: 4 },
      { id: 'a5', line: 5 },
    ]);
    expect(r.altered).toEqual({ documents: 1, rows: 1, examples: [{ id: 'a3', line: 3 }] });
    // a1 is on rows 1 and 5: one document repeated, one extra row.
    expect(r.duplicates).toEqual({ documents: 1, extra_rows: 1, examples: [{ id: 'a1', line: 1 }] });
    // Rows 1, 3, 5, 6 carry an anchor text: 4 of 9.
    expect(r.share).toEqual({ anchor_rows: 4, mix_rows: 9, value: 4 / 9 });
    expect(r.gate).toEqual({ min_share: null, max_missing: null, passed: true, reasons: [] });
    expect(r.contamination).toBeNull();
    expect(r.hashing.expected_false_matches_at_most).toBeCloseTo((9 * 6) / 2 ** 64, 30);

    const rows = readJsonl(join(c.dir, 'out', 'anchor.jsonl'));
    expect(rows.map((x) => [x.id, x.status, x.rows_by_id, x.rows_by_text, x.occurrences])).toEqual([
      ['a1', 'present', 1, 2, 2],
      ['a2', 'present', 0, 1, 1],
      ['a3', 'altered', 1, 0, 1],
      ['a4', 'missing', 0, 0, 0],
      ['a5', 'missing', 0, 0, 0],
      ['a6', 'present', 1, 1, 1],
    ]);
    expect(readJsonl(join(c.dir, 'out', 'missing.jsonl'))).toEqual([
      { id: 'a4', line: 4 },
      { id: 'a5', line: 5 },
    ]);
    expect(JSON.parse(readFileSync(join(c.dir, 'out', 'report.json'), 'utf8'))).toEqual(r);
  });

  it('the gate: share under minShare, more missing than maxMissing, each with its reason', async () => {
    const c = corpora();
    const pass = await checkAnchor({ mix: c.mix, anchor: c.anchor, idField: 'id', minShare: 0.44, maxMissing: 2 });
    expect(pass.gate.passed).toBe(true);
    const fail = await checkAnchor({ mix: c.mix, anchor: c.anchor, idField: 'id', minShare: 0.45, maxMissing: 1 });
    expect(fail.gate.passed).toBe(false);
    expect(fail.gate.reasons).toHaveLength(2);
    expect(fail.gate.reasons[0]).toContain('(4/9 rows) is below `minShare` 0.45');
    expect(fail.gate.reasons[1]).toContain(
      '2 of 6 anchor documents are missing from the mix, more than `maxMissing` 1',
    );
  });

  it('without ids, documents match by text only and by-id counts are null', async () => {
    const c = corpora();
    const r = await checkAnchor({ mix: c.mix, anchor: c.anchor });
    expect(r.id_matching).toBe(false);
    expect(r.present).toEqual({ by_id: null, by_text: 3, by_either: 3 });
    expect(r.missing.documents).toBe(3); // a3's altered copy no longer counts
    expect(r.altered.documents).toBeNull();
    expect(r.share.anchor_rows).toBe(4);
  });

  it('a Parquet mix gives the same counts as its JSONL', async () => {
    const c = corpora();
    await jsonlToParquet(c.mix, join(c.dir, 'mix.parquet'));
    const r = await checkAnchor({ mix: join(c.dir, 'mix.parquet'), anchor: c.anchor, idField: 'id' });
    expect(r.mix).toMatchObject({ rows: 9, rows_without_id: 1 });
    expect(r.present).toEqual({ by_id: 3, by_text: 3, by_either: 4 });
    expect(r.altered.documents).toBe(1);
    expect(r.share.value).toBe(4 / 9);
  });

  it('a score directory stands for the corpus it scored, with its fields', async () => {
    const c = corpora();
    const rows = fakeRows(MIX.length, false, 1).map((row, i) => ({ ...row, line: i + 1 }));
    const scored = writeScoreDir(join(c.dir, 'mix-scores'), rows, { input: c.mix });
    const r = await checkAnchor({ mix: scored, anchor: c.anchor, anchorIdField: 'id' });
    expect(r.mix).toMatchObject({ score_dir: true, corpus: c.mix, id_field: 'id', rows: 9 });
    expect(r.present).toEqual({ by_id: 3, by_text: 3, by_either: 4 });
    expect(r.share.value).toBe(4 / 9);
    await expect(checkAnchor({ mix: scored, anchor: c.anchor, idField: 'doc_id' })).rejects.toThrow(
      /score directory of a corpus read with id field "id"; `idField` says "doc_id"/,
    );
  });
});

describe('contamination from detections', () => {
  it('over the anchor: flagged documents, those in the mix, unscored rows', async () => {
    const c = corpora();
    const det = join(c.dir, 'detections.jsonl');
    // Line 5 (a5) was not scored.
    writeJsonl(det, [
      { id: 'a1', line: 1, p_synthetic: 0.1, verdict: 'human' },
      { id: 'a2', line: 2, p_synthetic: 0.9, verdict: 'synthetic' },
      { id: 'a3', line: 3, p_synthetic: 0.2, verdict: 'human' },
      { id: 'a4', line: 4, p_synthetic: 0.8, verdict: 'synthetic' },
      { id: 'a6', line: 6, p_synthetic: 0.3, verdict: 'human' },
    ]);
    const r = await checkAnchor({
      mix: c.mix,
      anchor: c.anchor,
      idField: 'id',
      detections: det,
      out: join(c.dir, 'o'),
    });
    expect(r.contamination).toMatchObject({
      of: 'anchor',
      flagged_documents: 2,
      flagged_in_mix: 1, // a2 is in the mix, a4 is missing
      flagged_rows: null,
      unscored_rows: 1,
      examples: [
        { id: 'a2', line: 2, p_synthetic: 0.9 },
        { id: 'a4', line: 4, p_synthetic: 0.8 },
      ],
    });
    expect(readJsonl(join(c.dir, 'o', 'contaminated.jsonl'))).toEqual([
      { id: 'a2', line: 2, p_synthetic: 0.9, occurrences: 1 },
      { id: 'a4', line: 4, p_synthetic: 0.8, occurrences: 0 },
    ]);
  });

  it('over the mix: anchor rows flagged, joined by line; a file of another corpus is refused', async () => {
    const c = corpora();
    const det = join(c.dir, 'mix-detections.jsonl');
    const verdicts = [0.1, 0.95, 0.7, 0.2, 0.6, 0.1, 0.9, 0.9, 0.1]; // synthetic above 0.5
    writeJsonl(
      det,
      MIX.map((m, i) => ({
        id: m.id ?? String(i + 1),
        line: i + 1,
        p_synthetic: verdicts[i],
        verdict: verdicts[i]! > 0.5 ? 'synthetic' : 'human',
      })),
    );
    const r = await checkAnchor({ mix: c.mix, anchor: c.anchor, idField: 'id', detections: det, detectionsOf: 'mix' });
    // Anchor rows 3 (a2, 0.7) and 5 (a1's second copy, 0.6) are flagged; rows 2, 7, 8 are flagged but not anchor rows.
    expect(r.contamination).toMatchObject({ of: 'mix', flagged_documents: 2, flagged_in_mix: 2, flagged_rows: 2 });
    expect(r.contamination!.examples).toEqual([
      { id: 'a1', line: 1, p_synthetic: 0.6 },
      { id: 'a2', line: 2, p_synthetic: 0.7 },
    ]);
    // The same file read as the anchor's: its line 2 has id m1, the anchor's a2.
    await expect(checkAnchor({ mix: c.mix, anchor: c.anchor, idField: 'id', detections: det })).rejects.toThrow(
      UsageError,
    );
  });
});

describe('bad input', () => {
  it('a bad JSON line stops the check naming file and line, and writes nothing', async () => {
    const c = corpora();
    writeFileSync(c.mix, toJsonl(MIX.slice(0, 2)) + '{"id": "broken", "text": \n' + toJsonl(MIX.slice(2)));
    const out = join(c.dir, 'out');
    const err = await checkAnchor({ mix: c.mix, anchor: c.anchor, idField: 'id', out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(new RegExp(`^${c.mix}:3: `));
    expect(() => readFileSync(join(out, 'report.json'))).toThrow();
  });

  it('a malformed detections row is named by file and line', async () => {
    const c = corpora();
    const det = join(c.dir, 'detections.jsonl');
    writeFileSync(
      det,
      toJsonl([{ id: 'a1', line: 1, p_synthetic: 0.1, verdict: 'human' }]) + '{"id": "a2", "line": 2}\n',
    );
    await expect(checkAnchor({ mix: c.mix, anchor: c.anchor, idField: 'id', detections: det })).rejects.toThrow(
      new InputError(det, 2, 'needs "p_synthetic" and "verdict" (synthetic or human)'),
    );
  });

  it('options that do not fit', async () => {
    const c = corpora();
    await expect(checkAnchor({ mix: c.mix, anchor: '-' })).rejects.toThrow(/cannot be stdin/);
    await expect(checkAnchor({ mix: c.mix, anchor: c.anchor, minShare: 1.5 })).rejects.toThrow(/`minShare`/);
    await expect(checkAnchor({ mix: c.mix, anchor: c.anchor, ledger: join(c.dir, 'l.json') })).rejects.toThrow(
      /`ledger` and `generation` go together/,
    );
    await expect(checkAnchor({ mix: join(c.dir, 'nope.jsonl'), anchor: c.anchor })).rejects.toThrow(
      /nope\.jsonl: no such file or directory/,
    );
  });
});

describe('the anchor ledger', () => {
  it('records each generation, updates one checked again, warns when anchor documents are lost', async () => {
    const c = corpora();
    const ledger = join(c.dir, 'anchor-ledger.json');
    const gen = async (name: string, mix: Row[]) => {
      writeJsonl(join(c.dir, `${name}.jsonl`), mix);
      return checkAnchor({
        mix: join(c.dir, `${name}.jsonl`),
        anchor: c.anchor,
        idField: 'id',
        ledger,
        generation: name,
      });
    };
    const filler = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `s${i}`, text: `synthetic ${i}` }));
    await gen('g0', ANCHOR); // share 1, all 6 present
    await gen('g1', [...ANCHOR, ...filler(6)]); // share 1/2
    const g2 = await gen('g2', [...ANCHOR.slice(0, 3), ...filler(9)]); // share 1/4, 3 lost
    expect(g2.ledger!.generations).toEqual([
      { generation: 'g0', share: 1, present: 6, missing: 0 },
      { generation: 'g1', share: 0.5, present: 6, missing: 0 },
      { generation: 'g2', share: 0.25, present: 3, missing: 3 },
    ]);
    expect(g2.warnings.join('\n')).toContain('3 anchor documents present in generation g1 are gone from generation g2');
    const again = await gen('g1', [...ANCHOR, ...filler(2)]); // share 6/8, in g1's place
    expect(again.ledger!.generations.map((g) => [g.generation, g.share])).toEqual([
      ['g0', 1],
      ['g1', 0.75],
      ['g2', 0.25],
    ]);
    const file = JSON.parse(readFileSync(ledger, 'utf8'));
    expect(file).toMatchObject({ command: 'anchor check', ledger_version: 1 });
    expect(file.generations[1]).toMatchObject({ anchor_rows: 6, mix_rows: 8, anchor_documents: 6 });

    writeFileSync(
      join(c.dir, 'ledger.json'),
      JSON.stringify({ tool: 'tailguard', command: 'compare', generations: [] }),
    );
    await expect(
      checkAnchor({ mix: c.mix, anchor: c.anchor, ledger: join(c.dir, 'ledger.json'), generation: 'g3' }),
    ).rejects.toThrow(/ledger of `tailguard compare`/);
  });
});

/** The same counts by comparing strings, everything held: the reference the hashed, streamed check must equal. */
function naive(anchor: Row[], mix: Row[]) {
  const at = anchor.map((a) => normaliseText(a.text));
  const mt = mix.map((m) => normaliseText(m.text));
  const anchorTexts = new Set(at);
  const perDoc = anchor.map((a, j) => {
    let byId = 0;
    let byText = 0;
    let both = 0;
    mix.forEach((m, i) => {
      const id = a.id !== undefined && m.id === a.id;
      const text = mt[i] === at[j];
      if (id) byId++;
      if (text) byText++;
      if (id && text) both++;
    });
    return { byId, byText, both, occ: byId + byText - both };
  });
  const alteredRows = mix.filter((m, i) => {
    const same = anchor.map((a, j) => [a, j] as const).filter(([a]) => a.id !== undefined && a.id === m.id);
    return same.length > 0 && same.every(([, j]) => at[j] !== mt[i]);
  }).length;
  return {
    present: {
      by_id: perDoc.filter((d) => d.byId > 0).length,
      by_text: perDoc.filter((d) => d.byText > 0).length,
      by_either: perDoc.filter((d) => d.occ > 0).length,
    },
    missing: perDoc.filter((d) => d.occ === 0).length,
    altered: perDoc.filter((d) => d.occ > 0 && d.byId > d.both).length,
    alteredRows,
    duplicates: perDoc.filter((d) => d.occ > 1).length,
    extraRows: perDoc.reduce((s, d) => s + Math.max(d.occ - 1, 0), 0),
    anchorRows: mt.filter((t) => anchorTexts.has(t)).length,
  };
}

describe('against a naive recount', () => {
  it('random corpora with repeated ids and texts, case and white-space variants', async () => {
    for (const seed of [1, 2, 3]) {
      const rng = mulberry32(seed);
      const pick = (n: number) => Math.floor(rng() * n);
      const variant = (t: string) => (rng() < 0.3 ? ` ${t.toUpperCase()}\n` : rng() < 0.3 ? t.replace(' ', '   ') : t);
      const texts = Array.from({ length: 40 }, (_, i) => `text number ${i} here`);
      const anchor: Row[] = Array.from({ length: 60 }, () => ({ id: `d${pick(70)}`, text: variant(texts[pick(40)]!) }));
      const mix: Row[] = Array.from({ length: 200 }, () =>
        rng() < 0.1
          ? { text: variant(texts[pick(40)]!) }
          : { id: `d${pick(90)}`, text: variant(texts[pick(50) % 45] ?? 'other') },
      );
      const c = corpora(anchor, mix);
      const r = await checkAnchor({ mix: c.mix, anchor: c.anchor, idField: 'id' });
      const want = naive(anchor, mix);
      expect(r.present).toEqual(want.present);
      expect(r.missing.documents).toBe(want.missing);
      expect(r.altered.documents).toBe(want.altered);
      expect(r.altered.rows).toBe(want.alteredRows);
      expect(r.duplicates.documents).toBe(want.duplicates);
      expect(r.duplicates.extra_rows).toBe(want.extraRows);
      expect(r.share.anchor_rows).toBe(want.anchorRows);
      expect(r.anchor.repeated_texts).toBeGreaterThan(0); // the case the chains exist for
    }
  });
});

describe('normaliseText', () => {
  it('NFKC, lower case, white space collapsed and trimmed; words and punctuation kept', () => {
    expect(normaliseText('  The\tQuick\n\n brown\u00a0FOX.  ')).toBe('the quick brown fox.');
    expect(normaliseText('ＦＵＬＬ ﬁle ①')).toBe('full file 1');
    expect(normaliseText('fox!')).not.toBe(normaliseText('fox.'));
  });

  it('collapses white space exactly as /\\s+/g → " " would, on random strings', () => {
    const rng = mulberry32(9);
    const chars = ['a', 'b', ' ', ' ', '\t', '\n', '\r', '\u00a0', '\u2003', '\u2028', '\ufeff', 'é'];
    for (let k = 0; k < 2000; k++) {
      const s = Array.from({ length: 1 + Math.floor(rng() * 12) }, () => chars[Math.floor(rng() * chars.length)]).join(
        '',
      );
      expect(normaliseText(s)).toBe(s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim());
    }
  });
});

describe('memory', () => {
  it('HashChains keeps every item of a key across growth', () => {
    const h = new HashChains();
    for (let i = 0; i < 5000; i++) h.add({ hi: i % 1000, lo: 7 }, i);
    const items: number[] = [];
    h.forEach({ hi: 3, lo: 7 }, (j) => items.push(j));
    expect(items.sort((a, b) => a - b)).toEqual([3, 1003, 2003, 3003, 4003]);
    h.forEach({ hi: 3, lo: 8 }, () => expect.unreachable());
  });

  it('the mix streams through: 240 MB of rows pass with the heap growing far less, each row pulled once', async () => {
    const set = new AnchorSet();
    set.add('a', 'anchor text');
    const n = 30_000;
    let pulled = 0;
    async function* rows(): AsyncGenerator<SourceDoc> {
      for (let i = 0; i < n; i++) {
        pulled++;
        // A fresh 8 KB string per row: holding the rows would hold 240 MB.
        yield { line: i + 1, file: 'gen', id: `m${i}`, text: Buffer.alloc(8192, 97 + (i % 26)).toString('latin1') };
      }
      yield { line: n + 1, file: 'gen', id: 'z', text: 'ANCHOR   text' };
    }
    const before = process.memoryUsage().heapUsed;
    const counts = await scanMix(set, rows(), { matchIds: true });
    const after = process.memoryUsage().heapUsed;
    expect(pulled).toBe(n);
    expect(counts).toMatchObject({ rows: n + 1, anchorRows: 1 });
    expect(after - before).toBeLessThan(120 * 2 ** 20);
  });
});
