/**
 * Which search a coverage run uses (`--search`):
 *   exact  every pair, by blocked matrix products (exact/exact-prdc.ts): the definitions' own numbers, O(N²·d) time
 *   hnsw   HNSW indexes (prdc.ts): about N·log N, exact up to the index's own approximation, which prdc.ts works hard
 *          to remove
 *   auto   exact on a GPU; on CPU exact while the work — distinct pairs the exact search forms, times the dimension —
 *          is within EXACT_WORK_BUDGET, HNSW beyond it; HNSW too whenever an option only HNSW uses is given (a saved
 *          index, index parameters, --max-probe), since asking for those is asking for HNSW.
 */
import { UsageError } from '../errors.js';
import type { IndexParams } from './hnsw/ann-index.js';
import type { RecallTarget } from './hnsw/ef-tuning.js';
import type { ExactDevice } from './exact/tiles.js';

export type SearchRequest = 'exact' | 'hnsw' | 'auto';
export const SEARCH_REQUESTS: readonly SearchRequest[] = ['exact', 'hnsw', 'auto'];

/**
 * auto's CPU budget in pair-dimensions: where exact search stops beating HNSW on two (shared) cores of an AMD EPYC,
 * on the clustered 256-d mixture of bench/coverage-bench.ts, which is easy for HNSW (bench/results/coverage-exact.md):
 * at 20k × 20k (2.0·10¹¹) exact takes 6–9 s against HNSW's 16–20 s; at 100k × 100k (5.1·10¹²) the two are even
 * (four runs under varying load from other work: exact 114, 135, 230, 314 s; HNSW 134, 135, 145, 361 s). Exact time
 * grows with the work, HNSW's about with the number of points, so the budget sits there: about 110k × 110k at 256-d,
 * 50k × 50k at 1000-d. On data hard for HNSW exact wins by far more (10k × 10k standard normals in 1000-d: ≈4 s
 * against ≈140 s).
 */
export const EXACT_WORK_BUDGET = 6e12;

/** Pairs the exact search forms (each side with itself once, and every reference–candidate pair) times the dimension. */
export function exactWork(n: number, m: number, dim: number): number {
  return ((n * (n + 1)) / 2 + (m * (m + 1)) / 2 + n * m) * dim;
}

export interface SearchChoice {
  requested: SearchRequest;
  used: 'exact' | 'hnsw';
  /** Why, in words (auto: the work against the budget, the device, or the HNSW options given). */
  reason: string;
  /** exactWork of the run, and auto's CPU budget. */
  work: number;
  budget: number;
  /** Where exact search ran; null for HNSW. */
  device: ExactDevice | null;
}

/** The options of coverageRun that only the HNSW path uses (only whether they are given matters here). */
export interface HnswOnlyOptions {
  index?: Partial<IndexParams>;
  indexRecall?: Partial<RecallTarget>;
  maxProbe?: number;
  referenceIndex?: string;
  recallSample?: number;
}

/** The HNSW-only options given, by their CLI names (library names in parentheses where there is none). */
export function hnswOptionsGiven(o: HnswOnlyOptions): string[] {
  const names: string[] = [];
  const given = (v: unknown) => v !== undefined;
  if (given(o.index?.m)) names.push('`index.m`');
  if (given(o.index?.efConstruction)) names.push('`index.efConstruction`');
  if (given(o.index?.efSearch)) names.push('`index.efSearch`');
  if (given(o.indexRecall?.target)) names.push('`indexRecall.target`');
  if (given(o.indexRecall?.maxEf)) names.push('`indexRecall.maxEf`');
  if (given(o.indexRecall?.sample)) names.push('`indexRecall.sample`');
  if (given(o.maxProbe)) names.push('`maxProbe`');
  if (given(o.referenceIndex)) names.push('`referenceIndex`');
  if (given(o.recallSample)) names.push('`recallSample`');
  return names;
}

export function checkSearchRequest(search: string): SearchRequest {
  if (!(SEARCH_REQUESTS as readonly string[]).includes(search))
    throw new UsageError(`\`search\` must be one of ${SEARCH_REQUESTS.join(', ')} (got ${search})`);
  return search as SearchRequest;
}

/**
 * The choice before any device is started: 'hnsw', 'exact', or 'device' when auto depends on whether exact search
 * gets a GPU (it is started, then `afterDevice` decides).
 */
export function chooseSearch(
  requested: SearchRequest,
  hnswOptions: string[],
  work: number,
  gpuPossible: boolean,
  budget = EXACT_WORK_BUDGET,
): SearchChoice | 'device' {
  const base = { requested, work, budget };
  if (requested === 'exact' && hnswOptions.length) {
    throw new UsageError(
      `\`search\` exact: ${hnswOptions.join(', ')} ${hnswOptions.length > 1 ? 'apply' : 'applies'} to HNSW search only (\`search\` hnsw, or auto)`,
    );
  }
  if (requested === 'hnsw') return { ...base, used: 'hnsw', reason: 'asked for', device: null };
  if (requested === 'auto' && hnswOptions.length)
    return { ...base, used: 'hnsw', reason: `auto: ${hnswOptions.join(', ')} given`, device: null };
  if (requested === 'auto' && !gpuPossible && work > budget)
    return {
      ...base,
      used: 'hnsw',
      reason: `auto: work ${fmtWork(work)} above the CPU budget ${fmtWork(budget)}`,
      device: null,
    };
  return 'device';
}

/** auto's (or exact's) choice once exact search's device is known. */
export function afterDevice(
  requested: SearchRequest,
  work: number,
  device: ExactDevice,
  budget = EXACT_WORK_BUDGET,
): SearchChoice {
  const base = { requested, work, budget };
  if (requested === 'exact') return { ...base, used: 'exact', reason: 'asked for', device };
  if (device === 'cuda') return { ...base, used: 'exact', reason: 'auto: on a GPU', device };
  if (work <= budget)
    return {
      ...base,
      used: 'exact',
      reason: `auto: work ${fmtWork(work)} within the CPU budget ${fmtWork(budget)}`,
      device,
    };
  return {
    ...base,
    used: 'hnsw',
    reason: `auto: work ${fmtWork(work)} above the CPU budget ${fmtWork(budget)}`,
    device: null,
  };
}

/** Pair-dimensions in scientific notation (2.0e12). */
export function fmtWork(w: number): string {
  return w.toExponential(1).replace('+', '');
}
