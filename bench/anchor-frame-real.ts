/**
 * What the anchor frame changes on real text: human vs machine passages of ../shared/eval/detect-dev (the
 * Fast-DetectGPT study's originals and their machine continuations), scored with tailguard-ref-6m. The anchor is one
 * half of the human texts (split by a hash of the text, as bench/detect-eval.ts splits them); measured against it:
 * the other half of the human texts and the machine texts of that half's pairs, each sampled to the same size. Per
 * frame (none, whiten, remove-top): Vendi (95% bootstrap CI), mean cosine distance, and coverage of the anchor.
 *
 *   node --import tsx bench/anchor-frame-real.ts --scores DIR [--per-set 1000] [--out bench/results/anchor-frame-real.md]
 *
 * DIR: a `tailguard score` directory of every detect-dev text (ids: sha1 of the text), read only.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { applyAnchorFrame, fitAnchorFrame, type FrameMethod } from '../src/coverage/anchor-frame.js';
import { exactPrdc } from '../src/coverage/exact/exact-prdc.js';
import { loadVectors, subset, type VectorSet } from '../src/coverage/vectors.js';
import { meanCosineDistance, vendiScore } from '../src/diversity/metrics.js';
import { mulberry32, sampleIndices } from '../src/random.js';
import { bootstrapCi } from '../src/stats/index.js';

const ROOT = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    scores: { type: 'string' },
    dev: { type: 'string', default: join(ROOT, '..', 'shared', 'eval', 'detect-dev') },
    'per-set': { type: 'string', default: '1000' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results', 'anchor-frame-real.md') },
  },
});
if (!values.scores) throw new Error('--scores DIR is required');
const sha = (s: string) => createHash('sha1').update(s).digest('hex');

// Which ids are human (label 0) or machine (1), and on which half (by the human text's hash).
const half = new Map<string, { label: 0 | 1; side: 0 | 1 }>();
for (const exp of ['exp_main', 'exp_gpt3to4'])
  for (const f of readdirSync(join(values.dev, exp)).filter((x) => x.endsWith('.raw_data.json'))) {
    const raw = JSON.parse(readFileSync(join(values.dev, exp, f), 'utf8')) as { original: string[]; sampled: string[] };
    raw.original.forEach((h, i) => {
      const side = (parseInt(sha(h).slice(0, 8), 16) % 2) as 0 | 1;
      half.set(sha(h), { label: 0, side });
      half.set(sha(raw.sampled[i]!), { label: 1, side });
    });
  }

const all = loadVectors(values.scores);
const seen = new Set<string>();
const rows = { anchor: [] as number[], human: [] as number[], machine: [] as number[] };
all.ids.forEach((id, r) => {
  const h = half.get(id);
  if (!h || seen.has(id)) return;
  seen.add(id);
  if (h.label === 0) (h.side === 0 ? rows.anchor : rows.human).push(r);
  else if (h.side === 1) rows.machine.push(r);
});
const n = Math.min(Number(values['per-set']), rows.human.length, rows.machine.length);
const rng = mulberry32(1);
const pick = (r: number[]) => sampleIndices(rng, r.length, n).map((i) => r[i]!);
const sets = { human: subset(all, pick(rows.human)), machine: subset(all, pick(rows.machine)) };
const anchor = subset(all, rows.anchor);

const f = (x: number, d = 3) => x.toFixed(d);
async function measure(name: string, method: FrameMethod | null): Promise<string[]> {
  const copy = (s: VectorSet): VectorSet => ({ ...s, data: Float32Array.from(s.data) });
  const a = copy(anchor);
  const h = copy(sets.human);
  const m = copy(sets.machine);
  if (method) {
    const frame = fitAnchorFrame(a, 'cosine', values.scores!, { method });
    for (const s of [a, h, m]) applyAnchorFrame(frame, s, 'cosine');
  }
  const out: string[] = [];
  for (const [label, s] of [
    ['human (other half)', h],
    ['machine', m],
  ] as const) {
    const idx = Int32Array.from({ length: n }, (_, i) => i);
    const vendi = vendiScore(s.data, s.dim, idx);
    const ci = bootstrapCi((b) => vendiScore(s.data, s.dim, b), n, { resamples: 30, seed: 1 });
    const p = await exactPrdc(a, s, { k: 5 });
    out.push(
      `| ${name} | ${label} | ${f(vendi, 2)} (${f(ci.lo, 2)}–${f(ci.hi, 2)}) | ${f(meanCosineDistance(s.data, s.dim))} | ` +
        `${f(p.coverage.value)} (${f(p.coverage.ci.lo)}–${f(p.coverage.ci.hi)}) | ${f(p.precision.value)} | ${f(p.recall.value)} |`,
    );
  }
  return out;
}

const table = [
  '| frame | set | Vendi (95% CI) | mean cosine distance | coverage of the anchor (95% CI) | precision | recall |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ...(await measure('none (--no-whiten)', null)),
  ...(await measure('whiten (default)', 'whiten')),
  ...(await measure('remove-top', 'remove-top')),
];
const doc = [
  '# The anchor frame on real human vs machine text',
  '',
  `\`node --import tsx bench/anchor-frame-real.ts --scores ${values.scores} --per-set ${values['per-set']}\``,
  '',
  `detect-dev (the Fast-DetectGPT study's passages; ${all.ids.length} scored rows, ${all.dim}-d embeddings of`,
  `${JSON.parse(readFileSync(join(values.scores, 'run.json'), 'utf8')).model?.ref ?? 'the model'}).`,
  `Anchor: the ${anchor.ids.length} distinct human texts of one half (split by a hash of the text); measured against it,`,
  `${n} human texts of the other half and ${n} machine texts of that half's pairs (seeded samples). k = 5 for coverage;`,
  'Vendi over all the set, CI by 30 bootstrap resamples.',
  '',
  ...table,
  '',
];
writeFileSync(values.out, doc.join('\n'));
process.stdout.write(doc.join('\n'));
