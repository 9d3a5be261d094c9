/**
 * One ONNX Runtime session for scoring: the model's graph with tailguard's reductions appended,
 * on the first device of the plan that starts.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DeviceUnavailableError, ModelLoadError } from '../errors.js';
import { type Device } from './device.js';
import { augmentForScoring } from './onnx/augment.js';
import { decodeModel } from './onnx/proto.js';

export interface ScoringSession {
  session: ort.InferenceSession;
  device: Device;
  inputNames: readonly string[];
  /** Errors of devices tried before the one that started (auto fallback). */
  fallbackReasons: string[];
  release(): Promise<void>;
}

export interface SessionOptions {
  devices: Device[];
  /** Intra-op threads for the CPU provider (0 = onnxruntime's default). */
  threads?: number;
}

function providerConfig(device: Device): ort.InferenceSession.ExecutionProviderConfig {
  return device === 'cuda' ? { name: 'cuda', deviceId: 0 } : device;
}

/**
 * Graphs with external data must be loaded from a path so that onnxruntime finds their data files:
 * write the augmented graph to a temp folder beside links to those files.
 */
function stageExternalData(onnxPath: string, bytes: Uint8Array): { path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-model-'));
  const proto = decodeModel(readFileSync(onnxPath));
  const files = new Set<string>();
  for (const t of proto.graph?.initializer ?? []) {
    for (const e of t.externalData ?? []) if (e.key === 'location' && e.value) files.add(e.value);
  }
  for (const f of files) symlinkSync(join(dirname(onnxPath), f), join(dir, f));
  const path = join(dir, basename(onnxPath));
  writeFileSync(path, bytes);
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function createScoringSession(onnxPath: string, opts: SessionOptions): Promise<ScoringSession> {
  let raw: Uint8Array;
  try {
    raw = readFileSync(onnxPath);
  } catch (err) {
    throw new ModelLoadError(onnxPath, `cannot read ONNX file (${(err as Error).message})`, { cause: err });
  }
  const augmented = augmentForScoring(raw, onnxPath);
  const staged = augmented.hasExternalData ? stageExternalData(onnxPath, augmented.bytes) : null;
  const fallbackReasons: string[] = [];
  try {
    for (const device of opts.devices) {
      const options: ort.InferenceSession.SessionOptions = {
        executionProviders: [providerConfig(device)],
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
        ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
      };
      try {
        const session = staged
          ? await ort.InferenceSession.create(staged.path, options)
          : await ort.InferenceSession.create(augmented.bytes, options);
        return {
          session,
          device,
          inputNames: session.inputNames,
          fallbackReasons,
          release: () => session.release(),
        };
      } catch (err) {
        fallbackReasons.push(`${device}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  } finally {
    staged?.cleanup();
  }
  throw new DeviceUnavailableError(`could not start a session for ${onnxPath} on ${opts.devices.join(' or ')}: ${fallbackReasons.join('; ')}`);
}
