/**
 * The two sides of a coverage run, each an IndexHost (index-host.ts): on the calling thread (`threads: 1`), or each
 * on a worker thread of its own (`threads: 2`), where the two index builds and then each pass of prdc.ts (radii,
 * ball queries, second look) run at once, one per side.
 */
import { availableParallelism } from 'node:os';
import { UsageError } from '../../errors.js';
import type { OnProgress } from '../../progress.js';
import { DEFAULT_INDEX_PARAMS, type AnnIndex, type IndexParams } from '../hnsw/ann-index.js';
import { LocalIndexHost, type IndexHost } from './index-host.js';
import type { VectorSet } from '../vectors.js';
import { WorkerIndexHost } from './worker-host.js';

export interface IndexPair {
  reference: IndexHost;
  candidate: IndexHost;
  close(): Promise<void>;
}

export interface PairOptions {
  params?: IndexParams;
  /** 1: both sides on the calling thread; 2 (default on a machine with 2+ cores): a worker thread per side. */
  threads?: number;
  onProgress?: OnProgress;
  /** Indexes saved earlier (IndexHost.save) from the same rows, loaded instead of built (`params.efSearch` applies). */
  indexFiles?: { reference?: string; candidate?: string };
}

export const defaultCoverageThreads = (): number => Math.min(2, availableParallelism());

/** Builds both sides' indexes (at once, with two threads) and returns the pair ready for prdc. */
export async function buildIndexPair(
  reference: VectorSet,
  candidate: VectorSet,
  opts: PairOptions = {},
): Promise<IndexPair> {
  const params = opts.params ?? DEFAULT_INDEX_PARAMS;
  const threads = opts.threads ?? defaultCoverageThreads();
  if (threads !== 1 && threads !== 2)
    throw new UsageError(`\`threads\` must be 1 or 2 (one worker per index; got ${threads})`);
  const [onRef, onCand] = asOneStage(opts.onProgress, 'index builds', [reference.ids.length, candidate.ids.length]);
  const files = opts.indexFiles ?? {};
  if (threads === 1) {
    const ref = LocalIndexHost.open(reference, candidate, params, files.reference, onRef);
    return localHosts(ref, LocalIndexHost.open(candidate, reference, params, files.candidate, onCand));
  }
  const started = await Promise.allSettled([
    WorkerIndexHost.start('reference', reference, candidate, params, onRef, files.reference),
    WorkerIndexHost.start('candidate', candidate, reference, params, onCand, files.candidate),
  ]);
  const hosts = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(hosts.map((h) => h.close()));
    throw failed.reason;
  }
  const [ref, cand] = hosts as [WorkerIndexHost, WorkerIndexHost];
  return {
    reference: ref,
    candidate: cand,
    close: async () => {
      await Promise.all([ref.close(), cand.close()]);
    },
  };
}

/** A pair over indexes built already, on the calling thread (e.g. one anchor index reused against several sets). */
export function localPair(
  reference: VectorSet,
  refIndex: AnnIndex,
  candidate: VectorSet,
  candIndex: AnnIndex,
): IndexPair {
  return localHosts(
    new LocalIndexHost(reference, refIndex, candidate),
    new LocalIndexHost(candidate, candIndex, reference),
  );
}

function localHosts(reference: LocalIndexHost, candidate: LocalIndexHost): IndexPair {
  return { reference, candidate, close: async () => undefined };
}

/**
 * Progress callbacks for jobs that run at once (`totals`: each one's item count), reported as one stage: the sum of
 * their counts over the sum of their totals.
 */
export function asOneStage(
  onProgress: OnProgress | undefined,
  stage: string,
  totals: number[],
): (OnProgress | undefined)[] {
  if (!onProgress) return totals.map(() => undefined);
  const done = totals.map(() => 0);
  const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
  return totals.map((_, p) => (_stage: string, d: number) => {
    done[p] = d;
    onProgress(stage, sum(done), sum(totals));
  });
}

/** One job on each side at once (one after the other on a local pair), their progress as one stage. */
export function onBothSides<R, C>(
  onProgress: OnProgress | undefined,
  stage: string,
  totals: [number, number],
  onRef: (p?: OnProgress) => Promise<R>,
  onCand: (p?: OnProgress) => Promise<C>,
): Promise<[R, C]> {
  const [pr, pc] = asOneStage(onProgress, stage, totals);
  return Promise.all([onRef(pr), onCand(pc)]);
}
