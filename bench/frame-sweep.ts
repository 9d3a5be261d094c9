/**
 * The frame's settings on the generation-loop simulation: whitened Vendi (all 576 documents, point values) per
 * generation of the replace and accumulate loops of seed 1, for several shrinkages and numbers of removed top
 * directions. Reads the score directories bench/generation-loop.ts left in its --work DIR.
 *
 *   node --import tsx bench/frame-sweep.ts WORK_DIR
 */
import { applyAnchorFrame, fitAnchorFrame } from '../src/coverage/anchor-frame.js';
import { loadVectors } from '../src/coverage/vectors.js';
import { vendiScore } from '../src/diversity/metrics.js';
const W = process.argv[2];
if (!W) throw new Error('usage: bench/frame-sweep.ts WORK_DIR (the --work of bench/generation-loop.ts)');
const dirs = (r: string) => [0, 1, 2, 3, 4, 5, 6].map((g) => (g < 2 ? `${W}/s1-replace${g}` : `${W}/s1-${r}${g}`));
for (const spec of [{ s: 0.01 }, { s: 0.03 }, { s: 0.1 }, { s: 0.3 }, { s: 1 }, { top: 1 }, { top: 3 }, { top: 8 }]) {
  const a = loadVectors(dirs('replace')[0]!);
  const frame = fitAnchorFrame(
    a,
    'cosine',
    'a',
    'top' in spec ? { method: 'remove-top', removeTop: spec.top } : { shrinkage: spec.s },
  );
  const line: string[] = [];
  for (const r of ['replace', 'accumulate']) {
    const v = dirs(r).map((d) => {
      const x = loadVectors(d);
      applyAnchorFrame(frame, x, 'cosine');
      const idx = Int32Array.from({ length: x.ids.length }, (_, i) => i);
      return vendiScore(x.data, x.dim, idx).toFixed(1);
    });
    line.push(`${r}: ${v.join(' ')}`);
  }
  console.log(JSON.stringify(spec), line.join(' | '));
}
