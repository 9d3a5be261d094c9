/**
 * One ONNX Runtime session for scoring: the model's graph with tailguard's reductions appended,
 * on the first device of the plan that starts.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DeviceUnavailableError, ModelLoadError } from '../errors.js';
import { assertFeedable, type ModelInput } from './batch.js';
import { type Device } from './device.js';
import { augmentForScoring } from './onnx/augment.js';

export interface ScoringSession {
  session: ort.InferenceSession;
  device: Device;
  inputs: readonly ModelInput[];
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
 * Weights kept in separate files (ONNX external data) are handed to onnxruntime in memory, keyed by
 * the location the graph names, since the augmented graph is loaded from bytes, not from its folder.
 */
function readExternalData(onnxPath: string, files: string[]): { path: string; data: Uint8Array }[] {
  return files.map((f) => {
    try {
      return { path: f, data: readFileSync(join(dirname(onnxPath), f)) };
    } catch (err) {
      throw new ModelLoadError(onnxPath, `cannot read its external data file ${f} (${(err as Error).message})`, { cause: err });
    }
  });
}

export async function createScoringSession(onnxPath: string, opts: SessionOptions): Promise<ScoringSession> {
  let raw: Uint8Array;
  try {
    raw = readFileSync(onnxPath);
  } catch (err) {
    throw new ModelLoadError(onnxPath, `cannot read ONNX file (${(err as Error).message})`, { cause: err });
  }
  const augmented = augmentForScoring(raw, onnxPath);
  const externalData = readExternalData(onnxPath, augmented.externalDataFiles);
  const fallbackReasons: string[] = [];
  for (const device of opts.devices) {
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: [providerConfig(device)],
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
      ...(externalData.length > 0 ? { externalData } : {}),
    };
    try {
      const session = await ort.InferenceSession.create(augmented.bytes, options);
      const inputs = session.inputMetadata.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name }));
      assertFeedable(inputs, onnxPath);
      return { session, device, inputs, fallbackReasons, release: () => session.release() };
    } catch (err) {
      fallbackReasons.push(`${device}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new DeviceUnavailableError(`could not start a session for ${onnxPath} on ${opts.devices.join(' or ')}: ${fallbackReasons.join('; ')}`);
}
