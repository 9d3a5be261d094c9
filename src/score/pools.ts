/**
 * The two worker pools of a scoring run: tokenizers (cheap, CPU) and inference workers (one ONNX
 * Runtime session each). Separate pools let tokenization of the next chunk overlap inference of this
 * one, since a session's run blocks its thread.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { DeviceUnavailableError, TailguardError } from '../errors.js';
import { workerScript } from '../worker-script.js';
import type { StartReport } from './infer-worker.js';
import type { ProviderUsed } from '../lm/session.js';
import type { TextSignals } from '../signals/text-signals.js';
import type { ChunkScores, PreparedChunk, ScoringConfig, TokenizedChunk } from './types.js';

function workerFile(name: string): { filename: string; execArgv: string[] } {
  const { filename, execArgv } = workerScript(import.meta.url, name);
  return { filename: filename.href, execArgv };
}

/** One inference worker's session, as run.json records it. */
export interface WorkerDevice extends ProviderUsed {
  worker: number;
  thread_id: number;
}

export interface PoolSizes {
  inferWorkers: number;
  tokenizerWorkers: number;
}

export class ScoringPools {
  private readonly tokenizers: Piscina;
  private readonly inferers: Piscina;

  constructor(cfg: ScoringConfig, sizes: PoolSizes) {
    const tok = workerFile('tokenize-worker');
    this.tokenizers = new Piscina({
      ...tok,
      minThreads: sizes.tokenizerWorkers,
      maxThreads: sizes.tokenizerWorkers,
      idleTimeout: Infinity,
      workerData: { modelDir: cfg.modelDir },
    });
    const inf = workerFile('infer-worker');
    this.inferers = new Piscina({
      ...inf,
      minThreads: sizes.inferWorkers,
      maxThreads: sizes.inferWorkers,
      idleTimeout: Infinity,
      workerData: cfg,
    });
  }

  /**
   * Starts the session of each of the `workers` inference workers (idle workers take one start task
   * each) and reports the device they got, which must be the same for all.
   */
  async start(workers: number): Promise<{ device: string; fallbackReasons: string[]; workers: WorkerDevice[] }> {
    const reports = (await Promise.all(
      Array.from({ length: workers }, () => this.inferers.run(null)),
    )) as StartReport[];
    const failed = reports.find((r) => !r.ok);
    if (failed && !failed.ok) {
      throw failed.name === 'DeviceUnavailableError'
        ? new DeviceUnavailableError(failed.message)
        : new TailguardError(failed.message);
    }
    const ok = reports.filter((r): r is Extract<StartReport, { ok: true }> => r.ok);
    const devices = [...new Set(ok.map((r) => r.device))];
    if (devices.length > 1)
      throw new DeviceUnavailableError(
        `inference workers started on different devices (${devices.join(', ')}); name one with \`device\``,
      );
    // Each idle worker took one start task: one report per worker, in the order their sessions started.
    const seen = [...new Map(ok.map((r) => [r.threadId, r])).values()];
    return {
      device: ok[0]!.device,
      fallbackReasons: ok[0]!.fallbackReasons,
      workers: seen.map((r, worker) => ({ worker, thread_id: r.threadId, ...r.provider })),
    };
  }

  async score(
    texts: string[],
  ): Promise<ChunkScores & { textSignals: TextSignals[]; tokenEnds: Int32Array; offsets: Int32Array }> {
    const { textSignals, tokenEnds, ...tokenized } = (await this.tokenizers.run(texts)) as PreparedChunk;
    const scores = (await this.inferers.run(tokenized satisfies TokenizedChunk)) as ChunkScores;
    return { ...scores, textSignals, tokenEnds, offsets: tokenized.offsets };
  }

  async close(): Promise<void> {
    await Promise.all([this.tokenizers.destroy(), this.inferers.destroy()]);
  }
}

/** Default split of the machine: on CPU, one session using every core scores fastest (see bench/). */
export function defaultThreads(): number {
  return availableParallelism();
}
