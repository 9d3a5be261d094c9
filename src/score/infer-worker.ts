/** Piscina worker: owns one ONNX Runtime session and scores the chunks it is given. */
import { threadId } from 'node:worker_threads';
import { workerData } from 'piscina';
import { readModelSpec, type ModelSpec } from '../lm/model-config.js';
import { createScoringSession, type ProviderUsed, type ScoringSession } from '../lm/session.js';
import { scoreChunk, type Runner } from './infer.js';
import type { ChunkScores, ScoringConfig, TokenizedChunk } from './types.js';

const cfg = workerData as ScoringConfig;
interface Ready {
  scoring: ScoringSession;
  spec: ModelSpec;
  observerSpec?: ModelSpec;
  runner: Runner;
}
let ready: Promise<Ready> | undefined;

async function start(): Promise<Ready> {
  const spec = readModelSpec(cfg.modelDir);
  const observerSpec = cfg.observer ? readModelSpec(cfg.observer.modelDir) : undefined;
  const scoring = await createScoringSession(cfg.onnxPath, {
    devices: cfg.devices,
    threads: cfg.threads,
    observerOnnxPath: cfg.observer?.onnxPath,
  });
  const runner: Runner = {
    run: (feeds) => scoring.session.run(feeds),
    inputs: scoring.inputs,
  };
  return { scoring, spec, observerSpec, runner };
}

export type StartReport =
  | { ok: true; device: string; fallbackReasons: string[]; provider: ProviderUsed; threadId: number }
  // Error classes do not survive the thread boundary: the pool re-raises from name and message.
  | { ok: false; name: string; message: string };

/** A task is a tokenized chunk; `null` only starts the session and reports how that went. */
export default async function infer(chunk: TokenizedChunk | null): Promise<ChunkScores | StartReport> {
  ready ??= start();
  if (chunk === null) {
    try {
      const { scoring } = await ready;
      return {
        ok: true,
        device: scoring.device,
        fallbackReasons: scoring.fallbackReasons,
        provider: scoring.provider,
        threadId,
      };
    } catch (err) {
      return { ok: false, name: (err as Error).name, message: (err as Error).message };
    }
  }
  const { spec, observerSpec, runner } = await ready;
  return scoreChunk(runner, spec, cfg, chunk, observerSpec);
}
