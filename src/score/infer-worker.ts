/** Piscina worker: owns one ONNX Runtime session and scores the chunks it is given. */
import { workerData } from 'piscina';
import { readModelSpec, type ModelSpec } from '../lm/model-config.js';
import { createScoringSession, type ScoringSession } from '../lm/session.js';
import { scoreChunk, type Runner } from './infer.js';
import type { ChunkScores, ScoringConfig, TokenizedChunk } from './types.js';

const cfg = workerData as ScoringConfig;
let ready: Promise<{ scoring: ScoringSession; spec: ModelSpec; runner: Runner }> | undefined;

async function start(): Promise<{ scoring: ScoringSession; spec: ModelSpec; runner: Runner }> {
  const spec = readModelSpec(cfg.modelDir);
  const scoring = await createScoringSession(cfg.onnxPath, { devices: cfg.devices, threads: cfg.threads });
  const runner: Runner = {
    run: (feeds) => scoring.session.run(feeds),
    inputs: scoring.inputs,
    device: scoring.device,
  };
  return { scoring, spec, runner };
}

/** A task is a tokenized chunk; `null` only starts the session (and reports the device and fallbacks). */
export default async function infer(chunk: TokenizedChunk | null): Promise<ChunkScores | { device: string; fallbackReasons: string[] }> {
  ready ??= start();
  const { scoring, spec, runner } = await ready;
  if (chunk === null) return { device: scoring.device, fallbackReasons: scoring.fallbackReasons };
  return scoreChunk(runner, spec, cfg, chunk);
}
