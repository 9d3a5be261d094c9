/**
 * The two worker pools of a scoring run: tokenizers (cheap, CPU) and inference workers (one ONNX
 * Runtime session each). Separate pools let tokenization of the next chunk overlap inference of this
 * one, since a session's run blocks its thread.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { DeviceUnavailableError, TailguardError } from '../errors.js';
import type { StartReport } from './infer-worker.js';
import type { ChunkScores, ScoringConfig, TokenizedChunk } from './types.js';

/** Workers are written in TypeScript; when running from source (tests, tsx) they need tsx's loader. */
function workerFile(name: string): { filename: string; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  return { filename: url.href, execArgv: fromSource ? ['--import', 'tsx'] : [] };
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

  /** Starts a session (in one inference worker) and reports which device it got. */
  async start(): Promise<{ device: string; fallbackReasons: string[] }> {
    const report = (await this.inferers.run(null)) as StartReport;
    if (report.ok) return report;
    if (report.name === 'DeviceUnavailableError') throw new DeviceUnavailableError(report.message);
    if (report.name === 'ModelLoadError') throw new TailguardError(report.message);
    throw new Error(report.message);
  }

  async score(texts: string[]): Promise<ChunkScores> {
    const tokenized = (await this.tokenizers.run(texts)) as TokenizedChunk;
    return (await this.inferers.run(tokenized)) as ChunkScores;
  }

  async close(): Promise<void> {
    await Promise.all([this.tokenizers.destroy(), this.inferers.destroy()]);
  }
}

/** Default split of the machine: on CPU, one session using every core scores fastest (see bench/). */
export function defaultThreads(): number {
  return availableParallelism();
}
