/**
 * Tiles of squared distances for exact coverage search (exact-prdc.ts), computed and reduced by ONNX Runtime: a block
 * of rows `x` (b × d) against a block of rows `y` (c × d), both less a common centre (the distances are the same;
 * the rounding, which scales with the squared norms, is smaller for rows far from the origin),
 *   D = |x'|² + |y'|² − 2·x'·y'ᵀ,  x' = x − centre   (float32: Sub, Gemm, then broadcast adds)
 * and only per-row and per-column reductions come back, never the b × c tile (on a GPU it stays in device memory):
 *   smallest the K smallest of each row of D, values and column numbers (a list's first tile);
 *   nearer   the pairs (and their D) below their row's or their column's threshold — the K-th smallest each list
 *            holds so far — so later tiles return only what can still enter a list (an off-diagonal tile of a set
 *            against itself serves the lists of both its blocks);
 *   balls    with radius² thresholds per row (reference balls) and per column (candidate balls), each given as a pair
 *            (lo, hi) around the threshold: per column, how many rows' balls surely hold it (D ≤ lo); per row, whether
 *            some column's ball surely holds it; the pairs that are neither surely in nor surely out (lo < D ≤ hi),
 *            which the caller recomputes in float64; and per row the K smallest, or the pairs below a threshold.
 *
 * `errorScale` states the rounding contract: |D(float32, this device) − D(float64, rows as given)| ≤ ½·errorScale·(|x|²
 * + |y|²) for every pair, x and y being the rows the tile was given (the rows less a common centre, rounded to
 * float32). Callers widen every comparison by the whole errorScale (a 2× margin) and settle what falls inside in float64.
 */
import * as ort from 'onnxruntime-node';
import { DeviceUnavailableError } from '../../errors.js';
import { attr, GraphBuilder } from '../../onnx/graph-builder.js';
import { DataType, encodeModel } from '../../onnx/proto.js';
import { dotErrorBound } from './dot-products.js';

/** Where the tiles run: ONNX Runtime's CPU provider, or CUDA (`npm run setup:cuda`). */
export type ExactDevice = 'cpu' | 'cuda';

/** Tile side (rows of each block) by device: large enough to keep the matrix product fast, small enough to stay in cache / memory. */
export const DEFAULT_TILE: Record<ExactDevice, number> = { cpu: 2048, cuda: 8192 };

/** The K smallest of each row of a tile. */
export interface SmallestTile {
  /** b × K, ascending per row. */
  rowValues: Float32Array;
  /** b × K: column numbers within the tile. */
  rowIds: Int32Array;
  /** K (≤ c, ≤ the K asked): entries per row. */
  rowK: number;
}

/** Pairs of a tile below a threshold: rows[t], cols[t] (within the tile), values[t] = D. */
export interface PairsTile {
  rows: Int32Array;
  cols: Int32Array;
  values: Float32Array;
}

export interface BallsTile {
  /** Per column: rows whose ball surely holds it (D ≤ row lo). */
  sureInRowBalls: Float32Array;
  /** Per row: 1 when some column's ball surely holds it (D ≤ column lo). */
  sureInColumnBall: Float32Array;
  /** Pairs near a row's threshold: [rows…, columns…] (length 2u). */
  nearRowBall: Int32Array;
  /** Pairs near a column's threshold: [rows…, columns…] (length 2v). */
  nearColumnBall: Int32Array;
  /** The rows' nearest columns: the K smallest of each row, or the pairs below each row's `nearer` threshold. */
  nearest: SmallestTile | PairsTile;
}

/** Ball thresholds of a tile (float32, already widened by the caller): D ≤ lo surely inside, D > hi surely outside. */
export interface BallThresholds {
  rowLo: Float32Array;
  rowHi: Float32Array;
  colLo: Float32Array;
  colHi: Float32Array;
}

export interface Block {
  /** Rows (count × dim floats, row-major; not in shared memory), as given. */
  data: Float32Array;
  /** The centre (dim floats) the tile subtracts from both blocks' rows before the product: the same for both. */
  centre: Float32Array;
  /** Squared norms of the centred rows as the tile sees them, |fl32(x − centre)|² (see `centredSquares`), rounded to float32. */
  sq: Float32Array;
  count: number;
}

/** |fl32(x − centre)|² per row, summed in float64: the squared norms of the rows the tiles multiply. */
export function centredSquares(data: Float32Array, dim: number, centre: Float32Array): Float64Array {
  const n = data.length / dim;
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const v = Math.fround(data[i * dim + j]! - centre[j]!);
      s += v * v;
    }
    sq[i] = s;
  }
  return sq;
}

const F = DataType.FLOAT;

function model(build: (g: GraphBuilder) => void): Uint8Array {
  const g = new GraphBuilder(17);
  build(g);
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: g.toGraph('tailguard_exact_tiles'),
  });
}

/** D = xs + ys − 2·x'·y'ᵀ for inputs x [b,d], y [c,d] less centre [1,d] (x', y'), and their squared norms xs [b,1], ys [1,c]. */
function distances(g: GraphBuilder): string {
  const centre = g.input('centre', F, [1, 'd']);
  const x = g.op('Sub', [g.input('x', F, ['b', 'd']), centre]);
  const y = g.op('Sub', [g.input('y', F, ['c', 'd']), centre]);
  const xs = g.input('xs', F, ['b', 1]);
  const ys = g.input('ys', F, [1, 'c']);
  const partial = g.op('Gemm', [x, y, ys], { alpha: attr.float(-2), beta: attr.float(1), transB: attr.int(1) });
  return g.op('Add', [partial, xs]);
}

/** The K smallest along the last axis of `t` ([b, n]) as outputs row_values, row_ids (int32). */
function smallest(g: GraphBuilder, t: string): void {
  const k = g.input('k', DataType.INT64, [1]);
  const [values, ids] = g.node('TopK', [t, k], {
    attrs: { axis: attr.int(1), largest: attr.int(0), sorted: attr.int(1) },
    outputs: ['row_values', g.fresh('topk_ids')],
  });
  g.cast(ids!, DataType.INT32, 'row_ids');
  g.output(values!, F, ['b', 'k']);
  g.output('row_ids', DataType.INT32, ['b', 'k']);
}

/** The pairs where `mask` holds, as outputs pair_ids ([2, u] int32: rows then columns) and pair_values (D there). */
function pairs(g: GraphBuilder, d: string, mask: string): void {
  const where = g.op('NonZero', [mask]);
  g.cast(where, DataType.INT32, 'pair_ids');
  g.op('GatherND', [d, g.op('Transpose', [where], { perm: attr.ints([1, 0]) })], undefined, 'pair_values');
  g.output('pair_ids', DataType.INT32, [2, 'u']);
  g.output('pair_values', F, ['u']);
}

/** The K smallest of each row. */
function smallestModel(): Uint8Array {
  return model((g) => smallest(g, distances(g)));
}

/** The pairs below their row's or their column's threshold (inputs row_t [b,1], col_t [1,c]). */
function nearerModel(): Uint8Array {
  return model((g) => {
    const d = distances(g);
    const below = g.op('Or', [
      g.op('Less', [d, g.input('row_t', F, ['b', 1])]),
      g.op('Less', [d, g.input('col_t', F, [1, 'c'])]),
    ]);
    pairs(g, d, below);
  });
}

/** Ball memberships, and per row either the K smallest (`nearest` 'smallest') or the pairs below near_t [b,1]. */
function ballsModel(nearest: 'smallest' | 'nearer'): Uint8Array {
  return model((g) => {
    const d = distances(g);
    const rowLo = g.input('row_lo', F, ['b', 1]);
    const rowHi = g.input('row_hi', F, ['b', 1]);
    const colLo = g.input('col_lo', F, [1, 'c']);
    const colHi = g.input('col_hi', F, [1, 'c']);
    const rowSure = g.op('LessOrEqual', [d, rowLo]);
    const colSure = g.op('LessOrEqual', [d, colLo]);
    g.reduceSum(g.cast(rowSure, F), [0], false, 'sure_in_row_balls');
    g.reduce('ReduceMax', g.cast(colSure, F), [1], false, 'sure_in_column_ball');
    // Near a threshold: not surely in, yet not surely out (sure ⇒ maybe, so Xor is "maybe and not sure").
    const near = (sure: string, hi: string, out: string) =>
      g.cast(g.op('NonZero', [g.op('Xor', [sure, g.op('LessOrEqual', [d, hi])])]), DataType.INT32, out);
    near(rowSure, rowHi, 'near_row_ball');
    near(colSure, colHi, 'near_column_ball');
    g.output('sure_in_row_balls', F, ['c']);
    g.output('sure_in_column_ball', F, ['b']);
    g.output('near_row_ball', DataType.INT32, [2, 'u']);
    g.output('near_column_ball', DataType.INT32, [2, 'v']);
    if (nearest === 'smallest') smallest(g, d);
    else pairs(g, d, g.op('Less', [d, g.input('near_t', F, ['b', 1])]));
  });
}

const int64 = (v: number) => new ort.Tensor('int64', BigInt64Array.of(BigInt(v)), [1]);

/**
 * The sessions of one exact search, on the first device of `devices` that starts (`fallbackReasons`: why earlier
 * ones did not). `threads`: ONNX Runtime's intra-op threads on CPU.
 */
export class TileRunner {
  private constructor(
    readonly device: ExactDevice,
    private readonly sessions: Record<'smallest' | 'nearer' | 'ballsSmallest' | 'ballsNearer', ort.InferenceSession>,
    readonly fallbackReasons: string[],
  ) {}

  static async start(devices: ExactDevice[], threads: number): Promise<TileRunner> {
    const fallbackReasons: string[] = [];
    for (const device of devices) {
      const options: ort.InferenceSession.SessionOptions = {
        executionProviders: [device === 'cuda' ? { name: 'cuda', deviceId: 0 } : 'cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        logSeverityLevel: 3,
        graphOptimizationLevel: 'all',
      };
      try {
        const [smallest, nearer, ballsSmallest, ballsNearer] = await Promise.all(
          [smallestModel(), nearerModel(), ballsModel('smallest'), ballsModel('nearer')].map((m) =>
            ort.InferenceSession.create(m, options),
          ),
        );
        return new TileRunner(
          device,
          { smallest: smallest!, nearer: nearer!, ballsSmallest: ballsSmallest!, ballsNearer: ballsNearer! },
          fallbackReasons,
        );
      } catch (err) {
        fallbackReasons.push(`${device}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    throw new DeviceUnavailableError(
      `exact search could not start ONNX Runtime on ${devices.join(' or ')}: ${fallbackReasons.join('; ')}`,
    );
  }

  /**
   * The bound on float32 rounding per unit of |x|² + |y|² (see the header). CPU (MLAS): float32 products and sums, so
   * twice the dot product's worst case plus the adds. CUDA: onnxruntime's CUDA provider multiplies in TF32 by default
   * (inputs rounded to 10 mantissa bits; onnxruntime-node cannot turn it off), so 2⁻⁹ more.
   */
  errorScale(dim: number): number {
    // With S = |x|² + |y|² and u = 2⁻²⁴: the product's 2·|Δ(x·y)| ≤ 2γ_d·|x||y| ≤ γ_d·S (dotErrorBound is 2γ_d);
    // the norms rounded to float32, u·S; the two adds, 4u·S; centring (rows less a centre, rounded), 4u·S. So
    // (γ_d + 9u)·S in all, and dotErrorBound + 32u is over twice that.
    return dotErrorBound(dim) + 2 ** -19 + (this.device === 'cuda' ? 2 ** -9 : 0);
  }

  /** The K smallest of each row of the tile. */
  async smallest(x: Block, y: Block, dim: number, k: number): Promise<SmallestTile> {
    const rowK = Math.min(k, y.count);
    return smallestOf(await this.sessions.smallest.run({ ...this.feeds(x, y, dim), k: int64(rowK) }), rowK);
  }

  /** The pairs with D below their row's threshold `rowT` or their column's `colT` (D ≥ both for every other pair). */
  async nearer(x: Block, y: Block, dim: number, rowT: Float32Array, colT: Float32Array): Promise<PairsTile> {
    return pairsOf(
      await this.sessions.nearer.run({
        ...this.feeds(x, y, dim),
        row_t: new ort.Tensor('float32', rowT, [x.count, 1]),
        col_t: new ort.Tensor('float32', colT, [1, y.count]),
      }),
    );
  }

  /**
   * Ball memberships of the tile, and the rows' nearest columns: the K smallest per row (`nearest` a number), or the
   * pairs below each row's threshold (`nearest` a Float32Array of them).
   */
  async balls(x: Block, y: Block, dim: number, t: BallThresholds, nearest: number | Float32Array): Promise<BallsTile> {
    const feeds: Record<string, ort.Tensor> = {
      ...this.feeds(x, y, dim),
      row_lo: new ort.Tensor('float32', t.rowLo, [x.count, 1]),
      row_hi: new ort.Tensor('float32', t.rowHi, [x.count, 1]),
      col_lo: new ort.Tensor('float32', t.colLo, [1, y.count]),
      col_hi: new ort.Tensor('float32', t.colHi, [1, y.count]),
    };
    const rowK = typeof nearest === 'number' ? Math.min(nearest, y.count) : 0;
    if (typeof nearest === 'number') feeds.k = int64(rowK);
    else feeds.near_t = new ort.Tensor('float32', nearest, [x.count, 1]);
    const out = await (typeof nearest === 'number' ? this.sessions.ballsSmallest : this.sessions.ballsNearer).run(
      feeds,
    );
    return {
      sureInRowBalls: out.sure_in_row_balls!.data as Float32Array,
      sureInColumnBall: out.sure_in_column_ball!.data as Float32Array,
      nearRowBall: out.near_row_ball!.data as Int32Array,
      nearColumnBall: out.near_column_ball!.data as Int32Array,
      nearest: typeof nearest === 'number' ? smallestOf(out, rowK) : pairsOf(out),
    };
  }

  private feeds(x: Block, y: Block, dim: number): Record<string, ort.Tensor> {
    return {
      x: new ort.Tensor('float32', x.data, [x.count, dim]),
      y: new ort.Tensor('float32', y.data, [y.count, dim]),
      centre: new ort.Tensor('float32', x.centre, [1, dim]),
      xs: new ort.Tensor('float32', x.sq, [x.count, 1]),
      ys: new ort.Tensor('float32', y.sq, [1, y.count]),
    };
  }

  async release(): Promise<void> {
    await Promise.all(Object.values(this.sessions).map((s) => s.release()));
  }
}

function smallestOf(out: ort.InferenceSession.OnnxValueMapType, rowK: number): SmallestTile {
  return { rowValues: out.row_values!.data as Float32Array, rowIds: out.row_ids!.data as Int32Array, rowK };
}

function pairsOf(out: ort.InferenceSession.OnnxValueMapType): PairsTile {
  const ids = out.pair_ids!.data as Int32Array;
  const u = ids.length / 2;
  return { rows: ids.subarray(0, u), cols: ids.subarray(u), values: out.pair_values!.data as Float32Array };
}
