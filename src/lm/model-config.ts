/**
 * What the scoring engine needs to know about a model, read from the Hugging Face `config.json`
 * whatever the architecture (GPT-2 and Llama families name the same things differently).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelLoadError } from '../errors.js';

export interface ModelSpec {
  /** `model_type` from config.json ("llama", "gpt2", ...). */
  modelType: string;
  hiddenSize: number;
  /** Longest sequence the model accepts (max_position_embeddings / n_positions / n_ctx). */
  contextLength: number;
  numLayers: number;
  numKeyValueHeads: number;
  headDim: number;
  vocabSize: number;
  bosTokenId: number | null;
  eosTokenId: number | null;
}

type Json = Record<string, unknown>;

function pickNumber(config: Json, keys: string[]): number | undefined {
  for (const k of keys) {
    const v = config[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
}

function tokenId(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && typeof v[0] === 'number') return v[0];
  return null;
}

export function readModelSpec(dir: string): ModelSpec {
  const path = join(dir, 'config.json');
  let config: Json;
  try {
    config = JSON.parse(readFileSync(path, 'utf8')) as Json;
  } catch (err) {
    throw new ModelLoadError(dir, `cannot read config.json (${(err as Error).message})`, { cause: err });
  }
  const need = (keys: string[], what: string): number => {
    const v = pickNumber(config, keys);
    if (v === undefined) throw new ModelLoadError(dir, `config.json has no ${what} (looked for ${keys.join(', ')})`);
    return v;
  };
  const hiddenSize = need(['hidden_size', 'n_embd', 'd_model'], 'hidden size');
  const numHeads = need(['num_attention_heads', 'n_head'], 'attention head count');
  return {
    modelType: typeof config.model_type === 'string' ? config.model_type : 'unknown',
    hiddenSize,
    contextLength: need(['max_position_embeddings', 'n_positions', 'n_ctx', 'seq_length'], 'context length'),
    numLayers: need(['num_hidden_layers', 'n_layer'], 'layer count'),
    numKeyValueHeads: pickNumber(config, ['num_key_value_heads']) ?? numHeads,
    headDim: pickNumber(config, ['head_dim']) ?? hiddenSize / numHeads,
    vocabSize: need(['vocab_size'], 'vocabulary size'),
    bosTokenId: tokenId(config.bos_token_id),
    eosTokenId: tokenId(config.eos_token_id),
  };
}
