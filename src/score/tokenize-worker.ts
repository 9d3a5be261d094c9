/**
 * Piscina worker: tokenizes a chunk of documents and computes their text signals, so both overlap inference.
 */
import { workerData } from 'piscina';
import { readModelSpec } from '../lm/model-config.js';
import { loadTokenizer, type TextTokenizer } from '../lm/tokenizer.js';
import { textSignals } from '../signals/text-signals.js';
import type { PreparedChunk } from './types.js';

let tokenizer: TextTokenizer | undefined;

export default function tokenize(texts: string[]): PreparedChunk {
  tokenizer ??= loadTokenizer(
    (workerData as { modelDir: string }).modelDir,
    readModelSpec((workerData as { modelDir: string }).modelDir),
  );
  const encoded = texts.map((t) => tokenizer!.encode(t));
  const offsets = new Int32Array(texts.length + 1);
  encoded.forEach((e, i) => {
    offsets[i + 1] = offsets[i]! + e.length + 1;
  });
  const ids = new Int32Array(offsets[texts.length]!);
  encoded.forEach((e, i) => {
    ids[offsets[i]!] = tokenizer!.documentStartId;
    ids.set(e, offsets[i]! + 1);
  });
  const tokenEnds = new Int32Array(ids.length).fill(-1);
  texts.forEach((text, i) => {
    const ends = tokenizer!.placeTokens(ids.subarray(offsets[i]!, offsets[i + 1]!), text);
    if (ends) tokenEnds.set(ends, offsets[i]!);
  });
  return { ids, offsets, textSignals: texts.map((t) => textSignals(t)), tokenEnds };
}
