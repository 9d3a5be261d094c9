/**
 * The anchor's frame: a linear map fitted on the anchor's (human reference's) embeddings and applied to every set
 * measured against it, so that coverage, regions, Vendi and cosine distance see the directions in which documents
 * differ rather than the few that all mean-pooled embeddings share (their anisotropy: mean pairwise cosine distance
 * ~0.1, Vendi ~1). y = M (x − μ), then rows L2-normalised again under the metric `cosine`. Methods:
 *   whiten      ZCA whitening with shrinkage: M = V (Λ + εI)^−½ Vᵀ, ε = shrinkage · trace(Σ)/d (default 0.1: directions
 *               with less than a tenth of the average variance are not blown up to noise; N < d anchors stay finite)
 *   remove-top  centring, then projecting out the top principal directions (all-but-the-top): M = I − U_k U_kᵀ, k the
 *               directions whose variance exceeds 10 × the average (at least 1), or `removeTop`
 * Mean and covariance are accumulated in float64 in one streamed pass (shifted by the first row, so large offsets do not
 * cancel). The frame is saved as JSON (anchor-frame.json) and reused, so that a generation measured later is measured
 * in the same frame; it records the metric its rows were fitted under and refuses another.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { symmetricEigen } from '../stats/index.js';
import { normaliseRows, type DistanceMetric } from './vectors.js';

export type FrameMethod = 'whiten' | 'remove-top';
export const FRAME_METHODS: readonly FrameMethod[] = ['whiten', 'remove-top'];
export const DEFAULT_FRAME_METHOD: FrameMethod = 'whiten';
export const DEFAULT_SHRINKAGE = 0.1;
export const ANCHOR_FRAME_FILE = 'anchor-frame.json';

export interface AnchorFrame {
  tool: 'tailguard';
  kind: 'anchor-frame';
  version: 1;
  method: FrameMethod;
  /** The metric the anchor rows were fitted under (cosine: L2-normalised first); a set is mapped under the same. */
  metric: DistanceMetric;
  dim: number;
  /** Anchor rows the frame was fitted on, and where they came from. */
  documents: number;
  source: string;
  /** whiten: ε = shrinkage · trace/d. */
  shrinkage: number | null;
  epsilon: number | null;
  /** remove-top: directions removed and the share of the anchor's variance they held. */
  removed: number | null;
  removed_variance: number | null;
  /** The anchor covariance's eigenvalues, largest first. */
  eigenvalues: number[];
  mean: number[];
  /** Row-major d×d: y = M (x − mean). */
  matrix: number[];
}

/** What a report says about the frame it measured in (`null` fields: none, --no-whiten). */
export interface FrameSummary {
  method: FrameMethod | 'none';
  /** The anchor-frame.json written or read; null with `none`. */
  file: string | null;
  /** true when read from an earlier run's file, false when fitted on this run's anchor. */
  reused: boolean;
  fitted_on: { source: string; documents: number } | null;
  shrinkage: number | null;
  removed: number | null;
  removed_variance: number | null;
}

export const NO_FRAME: FrameSummary = {
  method: 'none',
  file: null,
  reused: false,
  fitted_on: null,
  shrinkage: null,
  removed: null,
  removed_variance: null,
};

/** Streamed float64 mean and covariance of d-dimensional rows (shifted by the first row for stability). */
export class MomentAccumulator {
  count = 0;
  private shift: Float64Array | null = null;
  private readonly sum: Float64Array;
  private readonly cross: Float64Array;
  private readonly row: Float64Array;
  constructor(readonly dim: number) {
    this.sum = new Float64Array(dim);
    this.cross = new Float64Array(dim * dim);
    this.row = new Float64Array(dim);
  }

  /** Adds the rows of a row-major N×dim block. */
  add(data: ArrayLike<number>): void {
    const d = this.dim;
    for (let o = 0; o + d <= data.length; o += d) {
      if (!this.shift) this.shift = Float64Array.from({ length: d }, (_, j) => data[o + j]!);
      const x = this.row;
      for (let j = 0; j < d; j++) {
        x[j] = data[o + j]! - this.shift[j]!;
        this.sum[j] = this.sum[j]! + x[j]!;
      }
      for (let i = 0; i < d; i++) {
        const xi = x[i]!;
        if (xi === 0) continue;
        const r = i * d;
        for (let j = i; j < d; j++) this.cross[r + j] = this.cross[r + j]! + xi * x[j]!;
      }
      this.count++;
    }
  }

  mean(): Float64Array {
    const shift = this.shift ?? new Float64Array(this.dim);
    return Float64Array.from(this.sum, (s, j) => shift[j]! + s / Math.max(this.count, 1));
  }

  /** Sample covariance (divisor N − 1; 0 for one row). */
  covariance(): Float64Array {
    const d = this.dim;
    const n = this.count;
    const c = new Float64Array(d * d);
    if (n < 2) return c;
    for (let i = 0; i < d; i++)
      for (let j = i; j < d; j++) {
        const v = (this.cross[i * d + j]! - (this.sum[i]! * this.sum[j]!) / n) / (n - 1);
        c[i * d + j] = v;
        c[j * d + i] = v;
      }
    return c;
  }
}

export interface FitOptions {
  method?: FrameMethod;
  /** whiten: ε relative to the average variance (default 0.1). */
  shrinkage?: number;
  /** remove-top: how many top directions (default: those with variance > 10 × the average, at least 1). */
  removeTop?: number;
}

/** Fits the frame on anchor rows (already L2-normalised when `metric` is cosine). Rows are read in blocks. */
export function fitAnchorFrame(
  anchor: { data: Float32Array; dim: number },
  metric: DistanceMetric,
  source: string,
  opts: FitOptions = {},
): AnchorFrame {
  const method = opts.method ?? DEFAULT_FRAME_METHOD;
  if (!FRAME_METHODS.includes(method))
    throw new UsageError(`\`frameMethod\` must be one of ${FRAME_METHODS.join(', ')} (got ${String(method)})`);
  const shrinkage = opts.shrinkage ?? DEFAULT_SHRINKAGE;
  if (!(Number.isFinite(shrinkage) && shrinkage > 0))
    throw new UsageError(`\`shrinkage\` must be a positive number (got ${shrinkage})`);
  const d = anchor.dim;
  if (opts.removeTop !== undefined && !(Number.isInteger(opts.removeTop) && opts.removeTop >= 1 && opts.removeTop < d))
    throw new UsageError(`\`removeTop\` must be an integer from 1 to ${d - 1} (got ${opts.removeTop})`);
  const acc = new MomentAccumulator(d);
  const block = 4096 * d;
  for (let o = 0; o < anchor.data.length; o += block) acc.add(anchor.data.subarray(o, o + block));
  if (acc.count < 2) throw new UsageError(`the anchor ${source} needs at least 2 documents to fit its frame`);
  const { values, vectors } = symmetricEigen(acc.covariance(), d);
  const trace = values.reduce((a, v) => a + Math.max(v, 0), 0);
  const average = trace / d;
  const m = new Float64Array(d * d);
  let epsilon: number | null = null;
  let removed: number | null = null;
  let removedVariance: number | null = null;
  if (method === 'whiten') {
    epsilon = shrinkage * average || Number.MIN_VALUE;
    const w = Float64Array.from(values, (l) => 1 / Math.sqrt(Math.max(l, 0) + epsilon!));
    for (let i = 0; i < d; i++)
      for (let j = i; j < d; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += vectors[i * d + c]! * w[c]! * vectors[j * d + c]!;
        m[i * d + j] = s;
        m[j * d + i] = s;
      }
  } else {
    removed = opts.removeTop ?? Math.max(1, values.filter((l) => l > 10 * average).length);
    removedVariance = trace > 0 ? values.slice(0, removed).reduce((a, v) => a + v, 0) / trace : 0;
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) {
        let s = i === j ? 1 : 0;
        for (let c = 0; c < removed; c++) s -= vectors[i * d + c]! * vectors[j * d + c]!;
        m[i * d + j] = s;
      }
  }
  return {
    tool: 'tailguard',
    kind: 'anchor-frame',
    version: 1,
    method,
    metric,
    dim: d,
    documents: acc.count,
    source: resolve(source),
    shrinkage: method === 'whiten' ? shrinkage : null,
    epsilon,
    removed,
    removed_variance: removedVariance,
    eigenvalues: Array.from(values),
    mean: Array.from(acc.mean()),
    matrix: Array.from(m),
  };
}

/**
 * Maps a set's rows into the frame, in place: y = M (x − μ), then L2-normalised again under `cosine`. Refuses a set of
 * another width or metric (a frame fitted on other embeddings would measure nonsense).
 */
export function applyAnchorFrame(
  frame: AnchorFrame,
  set: { data: Float32Array; dim: number; source?: string },
  metric: DistanceMetric,
): void {
  const d = frame.dim;
  const what = set.source ? `${set.source}: ` : '';
  if (set.dim !== d)
    throw new UsageError(`${what}${set.dim}-d embeddings, but the anchor frame was fitted on ${d}-d ones`);
  if (metric !== frame.metric)
    throw new UsageError(
      `${what}the anchor frame was fitted under the metric ${frame.metric}, not ${metric}: pass the same \`metric\``,
    );
  const M = Float64Array.from(frame.matrix);
  const mu = Float64Array.from(frame.mean);
  const x = new Float64Array(d);
  for (let o = 0; o < set.data.length; o += d) {
    for (let j = 0; j < d; j++) x[j] = set.data[o + j]! - mu[j]!;
    for (let i = 0; i < d; i++) {
      let s = 0;
      const r = i * d;
      for (let j = 0; j < d; j++) s += M[r + j]! * x[j]!;
      set.data[o + i] = s;
    }
  }
  if (metric === 'cosine') normaliseRows(set.data, d);
}

export async function saveAnchorFrame(path: string, frame: AnchorFrame): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(frame)}\n`);
}

/** Reads an anchor-frame.json, checking its shape (a clear error naming the file otherwise). */
export function readAnchorFrame(path: string): AnchorFrame {
  let f: Partial<AnchorFrame>;
  try {
    f = JSON.parse(readFileSync(path, 'utf8')) as Partial<AnchorFrame>;
  } catch (e) {
    throw new InputError(path, null, `not a readable anchor frame (${(e as Error).message})`);
  }
  const d = f.dim;
  const ok =
    f.kind === 'anchor-frame' &&
    f.version === 1 &&
    FRAME_METHODS.includes(f.method as FrameMethod) &&
    (f.metric === 'cosine' || f.metric === 'euclidean') &&
    typeof d === 'number' &&
    Number.isInteger(d) &&
    d > 0 &&
    Array.isArray(f.mean) &&
    f.mean.length === d &&
    Array.isArray(f.matrix) &&
    f.matrix.length === d * d &&
    [...f.mean, ...f.matrix].every((v) => typeof v === 'number' && Number.isFinite(v));
  if (!ok) throw new InputError(path, null, 'not an anchor frame (kind anchor-frame, version 1, dim, mean, matrix)');
  return f as AnchorFrame;
}

export function frameSummary(frame: AnchorFrame, file: string, reused: boolean): FrameSummary {
  return {
    method: frame.method,
    file: resolve(file),
    reused,
    fitted_on: { source: frame.source, documents: frame.documents },
    shrinkage: frame.shrinkage,
    removed: frame.removed,
    removed_variance: frame.removed_variance,
  };
}

/** How a run asks for its frame (the library options of coverage and compare). */
export interface FrameRequest extends FitOptions {
  /** Default true; false keeps the rows as loaded (what tailguard did before the frame). */
  whiten?: boolean;
  /** An anchor-frame.json from an earlier run, reused instead of fitting one on this run's anchor. */
  anchorFrame?: string;
  /** Alias of FitOptions.method for the options object (`frameMethod`). */
  frameMethod?: FrameMethod;
}

/**
 * Puts `anchor` and `others` into the anchor's frame, in place: the frame of `anchorFrame`, else the one at `implied`
 * (beside a reused reference index, which was built in it), else one fitted on `anchor`. Writes it to `outFile`;
 * returns it (to map later sets with) and what the report says of it.
 * With `whiten` false nothing is mapped, and a frame that the inputs imply (`anchorFrame`, `implied`) is refused:
 * mixing the frames would compare rows in two different spaces.
 */
export async function intoAnchorFrame(
  anchor: { data: Float32Array; dim: number; source: string },
  others: { data: Float32Array; dim: number; source: string }[],
  metric: DistanceMetric,
  req: FrameRequest,
  outFile: string,
  implied?: { file: string; exists: boolean; why: string },
): Promise<{ summary: FrameSummary; frame: AnchorFrame | null }> {
  if (req.whiten === false) {
    if (req.anchorFrame) throw new UsageError('`anchorFrame` needs whitening on (it was turned off)');
    if (implied?.exists)
      throw new UsageError(
        `${implied.why} was built in the anchor frame ${implied.file}: it cannot be used with whitening off (\`whiten\`)`,
      );
    return { summary: NO_FRAME, frame: null };
  }
  let frame: AnchorFrame;
  let file: string;
  let reused = true;
  if (req.anchorFrame) {
    frame = readAnchorFrame((file = req.anchorFrame));
  } else if (implied?.exists) {
    frame = readAnchorFrame((file = implied.file));
  } else if (implied) {
    throw new UsageError(
      `${implied.why} has no anchor frame beside it (${implied.file}): it was built without whitening; ` +
        'use it with whitening off (`whiten`), or drop `referenceIndex` to rebuild the index in the frame',
    );
  } else {
    frame = fitAnchorFrame(anchor, metric, anchor.source, { ...req, method: req.frameMethod ?? req.method });
    file = outFile;
    reused = false;
  }
  for (const set of [anchor, ...others]) applyAnchorFrame(frame, set, metric);
  await saveAnchorFrame(outFile, frame);
  return { summary: frameSummary(frame, reused ? file : outFile, reused), frame };
}
