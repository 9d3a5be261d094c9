/**
 * Tokenizers are loaded from `tokenizer.json` + `tokenizer_config.json` (the Hugging Face layout) by
 * @huggingface/tokenizers, the same way for every architecture. Special tokens are never added by the
 * tokenizer: the engine prepends the document-start token itself (see `documentStartId`).
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelLoadError } from '../errors.js';
import type { ModelSpec } from './model-config.js';
import { cutRuleFor, cutRuleHolds, encodeInPieces } from './segmented-encode.js';
import { placeTokens, tokenByteTable } from './token-bytes.js';

export interface TextTokenizer {
  /** Token ids of the text, without special tokens. */
  encode(text: string): Int32Array;
  /** The id every document starts with: BOS, or for models without one their document separator. */
  readonly documentStartId: number;
  /** Byte offset in `text` where each token of [start, ...encode(text)] ends, or null when that is unknowable. */
  placeTokens(ids: ArrayLike<number>, text: string): Int32Array | null;
}

function readJson(dir: string, name: string, required: boolean): Record<string, unknown> {
  const path = join(dir, name);
  if (!existsSync(path)) {
    if (required) throw new ModelLoadError(dir, `missing ${name}`);
    return {};
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ModelLoadError(dir, `cannot parse ${name} (${(err as Error).message})`, { cause: err });
  }
}

function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string')
    return (v as { content: string }).content;
  return undefined;
}

export function loadTokenizer(dir: string, spec: ModelSpec): TextTokenizer {
  const json = readJson(dir, 'tokenizer.json', true);
  const config = readJson(dir, 'tokenizer_config.json', false);
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json, config);
  } catch (err) {
    throw new ModelLoadError(dir, `tokenizer.json is not usable (${(err as Error).message})`, { cause: err });
  }
  const byName = (v: unknown): number | undefined => {
    const s = tokenContent(v);
    return s === undefined ? undefined : tok.token_to_id(s);
  };
  const startId =
    spec.bosTokenId ??
    byName(config.bos_token) ??
    spec.eosTokenId ??
    byName(config.eos_token) ??
    tok.token_to_id('<|endoftext|>');
  if (startId === undefined || startId === null) {
    throw new ModelLoadError(
      dir,
      'no BOS, EOS or <|endoftext|> token to start documents with (set bos_token_id in config.json)',
    );
  }
  const encodeWhole = (text: string): Int32Array =>
    Int32Array.from(tok.encode(text, { add_special_tokens: false }).ids);
  const rule = cutRuleFor(json);
  const piecewise = cutRuleHolds(encodeWhole, rule);
  const table = tokenByteTable(json, rule === 'drop-space');
  return {
    documentStartId: startId,
    encode: (text: string): Int32Array => (piecewise ? encodeInPieces(text, encodeWhole, rule) : encodeWhole(text)),
    placeTokens: (ids, text) => (table ? placeTokens(table, ids, text) : null),
  };
}

/**
 * Whether two model directories tokenize identically: the same tokenizer.json model, special tokens and
 * pre-/post-processing (formatting and key order aside). Two models scored in one graph must share their ids.
 */
export function sameTokenizer(dirA: string, dirB: string): boolean {
  const essence = (dir: string): string => {
    const t = readJson(dir, 'tokenizer.json', true);
    const pick = ['model', 'added_tokens', 'normalizer', 'pre_tokenizer', 'post_processor'].map((k) => t[k] ?? null);
    return JSON.stringify(pick, (_, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
        : v,
    );
  };
  return essence(dirA) === essence(dirB);
}
