/**
 * Turning windows of token ids into model feeds. Windows are sorted by length and grouped so that
 * padding stays small (right padding + attention mask: with causal attention, real positions never
 * see the padding, so a padded row scores exactly as it would alone).
 */
import * as ort from 'onnxruntime-node';
import { ModelLoadError } from '../errors.js';
import { OBSERVER_PREFIX, SCORING_INPUTS } from './onnx/augment.js';
import type { ModelSpec } from './model-config.js';
import type { Window } from './windows.js';

export interface WindowJob {
  /** Index of the document within its chunk. */
  doc: number;
  ids: Int32Array;
  window: Window;
}

/** A graph input as the session describes it. */
export interface ModelInput {
  name: string;
  /** Element type ('int64', 'float32', 'float16', ...); absent when the session does not say. */
  type?: string;
  shape?: readonly (number | string)[];
}

export interface BatchLimits {
  /** Most rows in one batch. */
  maxBatch: number;
  /** Most padded tokens (rows × longest row) in one batch; bounds the B×T×V activations. */
  maxTokens: number;
}

const FED_INPUTS = new Set([
  'input_ids',
  'attention_mask',
  'position_ids',
  SCORING_INPUTS.targets,
  SCORING_INPUTS.embedMask,
  'use_cache_branch',
]);
/** The name a merged graph's observer input had in its own model. */
const ownName = (name: string): string =>
  name.startsWith(OBSERVER_PREFIX) ? name.slice(OBSERVER_PREFIX.length) : name;
const isKvCache = (name: string): boolean => {
  const own = ownName(name);
  return own.startsWith('past_key_values.') || own.startsWith('past.');
};

/** Fails at load time, naming them, when the graph takes inputs the engine cannot feed. */
export function assertFeedable(inputs: readonly ModelInput[], model: string): void {
  const unknown = inputs.map((i) => i.name).filter((n) => !FED_INPUTS.has(ownName(n)) && !isKvCache(n));
  if (unknown.length > 0) {
    throw new ModelLoadError(
      model,
      `the graph takes inputs tailguard does not know how to feed: ${unknown.join(', ')} (a decoder-only LM export is expected)`,
    );
  }
}

/** Groups jobs into batches of similar length, longest first. */
export function bucketByLength(jobs: WindowJob[], limits: BatchLimits): WindowJob[][] {
  const sorted = [...jobs].sort((a, b) => b.window.end - b.window.start - (a.window.end - a.window.start));
  const batches: WindowJob[][] = [];
  let current: WindowJob[] = [];
  let width = 0; // the batch's first (longest) window
  for (const job of sorted) {
    const len = job.window.end - job.window.start;
    if (
      current.length > 0 &&
      (current.length + 1 > limits.maxBatch || (current.length + 1) * width > limits.maxTokens)
    ) {
      batches.push(current);
      current = [];
    }
    if (current.length === 0) width = len;
    current.push(job);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Feeds for a batch; `seqLen` is the longest window in it. `observerSpec`: the shape of the observer model merged into
 * the graph (augment.ts), for its own KV-cache inputs.
 */
export function buildFeeds(
  batch: WindowJob[],
  inputs: readonly ModelInput[],
  spec: ModelSpec,
  padId: number,
  observerSpec?: ModelSpec,
): { feeds: Record<string, ort.Tensor>; seqLen: number } {
  const rows = batch.length;
  const seqLen = Math.max(...batch.map((j) => j.window.end - j.window.start));
  const ids = new BigInt64Array(rows * seqLen).fill(BigInt(padId));
  const mask = new BigInt64Array(rows * seqLen);
  const positions = new BigInt64Array(rows * seqLen);
  const targets = new BigInt64Array(rows * seqLen);
  const embedMask = new Float32Array(rows * seqLen);
  batch.forEach((job, r) => {
    const { start, end, scoreFrom } = job.window;
    const base = r * seqLen;
    for (let j = 0; j < seqLen; j++) positions[base + j] = BigInt(j);
    for (let j = 0; j < end - start; j++) {
      ids[base + j] = BigInt(job.ids[start + j]!);
      mask[base + j] = 1n;
      if (start + j + 1 < end) targets[base + j] = BigInt(job.ids[start + j + 1]!);
      if (start + j >= scoreFrom) embedMask[base + j] = 1;
    }
  });
  const feeds: Record<string, ort.Tensor> = {};
  for (const { name: fedName, type, shape } of inputs) {
    const name = ownName(fedName);
    const model = fedName === name ? spec : (observerSpec ?? spec);
    let t: ort.Tensor;
    if (name === 'input_ids') t = new ort.Tensor('int64', ids, [rows, seqLen]);
    else if (name === 'attention_mask') t = new ort.Tensor('int64', mask, [rows, seqLen]);
    else if (name === 'position_ids') t = new ort.Tensor('int64', positions, [rows, seqLen]);
    else if (name === SCORING_INPUTS.targets) t = new ort.Tensor('int64', targets, [rows, seqLen]);
    else if (name === SCORING_INPUTS.embedMask) t = new ort.Tensor('float32', embedMask, [rows, seqLen]);
    else if (isKvCache(fedName)) {
      // Stock exports take a KV cache; scoring a whole window at once needs an empty one, of the
      // graph's own element type and head sizes (the owning model's config.json as the fallback).
      const heads = typeof shape?.[1] === 'number' ? shape[1] : model.numKeyValueHeads;
      const headDim = typeof shape?.[3] === 'number' ? shape[3] : model.headDim;
      const dims = [rows, heads, 0, headDim];
      t =
        type === 'float16'
          ? new ort.Tensor('float16', new Uint16Array(0), dims)
          : new ort.Tensor('float32', new Float32Array(0), dims);
    } else if (name === 'use_cache_branch') t = new ort.Tensor('bool', [false], [1]);
    else throw new Error(`model input '${fedName}' is not one tailguard knows how to feed`);
    feeds[fedName] = t;
  }
  return { feeds, seqLen };
}
