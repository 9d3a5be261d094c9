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
import { augmentForScoring, type ExternalDataFile } from './onnx/augment.js';

export interface ScoringSession {
  session: ort.InferenceSession;
  device: Device;
  inputs: readonly ModelInput[];
  /** Errors of devices tried before the one that started (auto fallback). */
  fallbackReasons: string[];
  /** The execution provider the session was created with, and its device id (CUDA's `deviceId`; null on CPU/WebGPU). */
  provider: ProviderUsed;
  release(): Promise<void>;
}

/** What run.json records of each inference worker's session (score-corpus.ts). */
export interface ProviderUsed {
  execution_provider: string;
  device_id: number | null;
}

/**
 * The CUDA device id every session uses: 0, the first GPU the process sees. One process per GPU (docs/scale-out.md)
 * picks the GPU with CUDA_VISIBLE_DEVICES, which run.json records beside it.
 */
export const CUDA_DEVICE_ID = 0;

export interface SessionOptions {
  devices: Device[];
  /** Intra-op threads for the CPU provider (0 = onnxruntime's default). */
  threads?: number;
  /** A second LM of the same tokenizer, run in the same graph for the cross-entropy output (augment.ts). */
  observerOnnxPath?: string;
}

function providerConfig(device: Device): ort.InferenceSession.ExecutionProviderConfig {
  return device === 'cuda' ? { name: 'cuda', deviceId: CUDA_DEVICE_ID } : device;
}

/**
 * Weights kept in separate files (ONNX external data) are handed to onnxruntime in memory, keyed by
 * the location the graph names, since the augmented graph is loaded from bytes, not from its folder.
 */
function readExternalData(
  graphs: { main: string; observer?: string },
  files: ExternalDataFile[],
): { path: string; data: Uint8Array }[] {
  return files.map(({ key, file, model }) => {
    const onnxPath = graphs[model]!;
    try {
      return { path: key, data: readFileSync(join(dirname(onnxPath), file)) };
    } catch (err) {
      throw new ModelLoadError(onnxPath, `cannot read its external data file ${file} (${(err as Error).message})`, {
        cause: err,
      });
    }
  });
}

function readGraph(onnxPath: string): Uint8Array {
  try {
    return readFileSync(onnxPath);
  } catch (err) {
    throw new ModelLoadError(onnxPath, `cannot read ONNX file (${(err as Error).message})`, { cause: err });
  }
}

export async function createScoringSession(onnxPath: string, opts: SessionOptions): Promise<ScoringSession> {
  const observer = opts.observerOnnxPath;
  const augmented = augmentForScoring(
    readGraph(onnxPath),
    onnxPath,
    observer ? { bytes: readGraph(observer), name: observer } : undefined,
  );
  const externalData = readExternalData({ main: onnxPath, observer }, augmented.externalDataFiles);
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
      const inputs = session.inputMetadata.map((m) =>
        m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name },
      );
      assertFeedable(inputs, onnxPath);
      const provider = { execution_provider: device, device_id: device === 'cuda' ? CUDA_DEVICE_ID : null };
      return { session, device, inputs, fallbackReasons, provider, release: () => session.release() };
    } catch (err) {
      fallbackReasons.push(`${device}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new DeviceUnavailableError(
    `could not start a session for ${onnxPath} on ${opts.devices.join(' or ')}: ${fallbackReasons.join('; ')}`,
  );
}
