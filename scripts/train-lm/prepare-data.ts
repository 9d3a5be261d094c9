/**
 * Step 1 of the reference-LM recipe: from the redistributable sources of the human corpus, train the byte-level
 * BPE tokenizer and write the token streams the trainer reads.
 *
 *   node --import tsx scripts/train-lm/prepare-data.ts [--corpus ../shared/corpora/human] [--out tmp/train-lm] [--vocab 8192]
 *       [--tokenizer models/tailguard-ref-6m]
 *
 * With --tokenizer DIR the tokenizer files of DIR are reused instead of trained (a warm start or a sibling model
 * must share its parent's ids); the streams are the same as a run whose trainer produced those files.
 * Writes OUT/tokenizer/{tokenizer.json,tokenizer_config.json,special_tokens_map.json}, OUT/train.bin and
 * OUT/val.bin (uint16 little-endian: each document is <|endoftext|> followed by its tokens, the way tailguard's
 * engine feeds documents) and OUT/data.json (counts per source). Documents are encoded with the same tokenizer
 * library the engine uses (@huggingface/tokenizers), so training and scoring see identical ids.
 * Validation = documents whose id hashes to 0 mod 200 (0.5%), never trained on; ../shared's heldout.jsonl is
 * already absent from the shards and is kept for the final evaluation.
 */
import { createReadStream, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { Tokenizer } from '@huggingface/tokenizers';
import { byteLevelTokenizerFiles, trainByteBpe, WordCounter } from '../lib/byte-bpe.js';
import { parseFlags, runIfMain, writeJson } from '../lib/files.js';
import { TRAINING_SOURCES } from './sources.js';

export const SEPARATOR = '<|endoftext|>';
const CONTEXT = 256;

interface Doc {
  id: string;
  source: string;
  text: string;
}

async function* readShards(dir: string): AsyncGenerator<Doc> {
  const shards = readdirSync(dir)
    .filter((f) => /^human-\d+\.jsonl\.gz$/.test(f))
    .sort();
  if (shards.length === 0) throw new Error(`no human-NNN.jsonl.gz shards in ${dir}`);
  for (const shard of shards) {
    const lines = createInterface({
      input: createReadStream(join(dir, shard)).pipe(createGunzip()),
      crlfDelay: Infinity,
    });
    let n = 0;
    for await (const line of lines) {
      n++;
      if (!line.trim()) continue;
      const row = JSON.parse(line) as Partial<Doc>;
      if (typeof row.text !== 'string' || typeof row.source !== 'string' || typeof row.id !== 'string') {
        throw new Error(`${shard}:${n}: expected string fields text, source, id`);
      }
      yield row as Doc;
    }
  }
}

export function isValidation(id: string): boolean {
  return createHash('sha1').update(id).digest().readUInt32BE(0) % 200 === 0;
}

class TokenStream {
  private chunks: Uint16Array[] = [];
  tokens = 0;
  push(ids: ArrayLike<number>): void {
    this.chunks.push(Uint16Array.from(ids));
    this.tokens += ids.length;
  }
  write(path: string): void {
    const all = new Uint16Array(this.tokens);
    let o = 0;
    for (const c of this.chunks) {
      all.set(c, o);
      o += c.length;
    }
    writeFileSync(path, new Uint8Array(all.buffer));
  }
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

function trainedTokenizer(counter: WordCounter, vocabSize: number): Record<string, unknown> {
  return byteLevelTokenizerFiles(trainByteBpe(counter, vocabSize - 1 - 256), SEPARATOR, CONTEXT);
}

/** The tokenizer files of a model directory, checked to have `vocabSize` entries. */
function reusedTokenizer(dir: string, vocabSize: number): Record<string, unknown> {
  const files = Object.fromEntries(
    TOKENIZER_FILES.map((f) => [f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown]),
  );
  const tj = files['tokenizer.json'] as { model: { vocab: Record<string, number> } };
  const size = Object.keys(tj.model.vocab).length;
  if (size !== vocabSize) throw new Error(`${dir}/tokenizer.json has ${size} entries, --vocab says ${vocabSize}`);
  return files;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), ['corpus', 'out', 'vocab', 'tokenizer']);
  const corpus = flags.corpus ?? '../shared/corpora/human';
  const out = flags.out ?? 'tmp/train-lm';
  const vocabSize = Number(flags.vocab ?? 8192);
  if (!Number.isInteger(vocabSize) || vocabSize <= 257 || vocabSize > 65535)
    throw new Error('--vocab must be an integer in 258..65535');
  mkdirSync(out, { recursive: true });

  const docs: Doc[] = [];
  const counter = new WordCounter();
  let t = Date.now();
  for await (const doc of readShards(corpus)) {
    if (!(doc.source in TRAINING_SOURCES)) continue;
    docs.push(doc);
    if (!isValidation(doc.id)) counter.add(doc.text);
  }
  console.error(
    `read ${docs.length} documents, ${counter.counts.size} distinct words (${((Date.now() - t) / 1000).toFixed(0)} s)`,
  );

  t = Date.now();
  const files =
    flags.tokenizer === undefined ? trainedTokenizer(counter, vocabSize) : reusedTokenizer(flags.tokenizer, vocabSize);
  for (const [name, value] of Object.entries(files)) writeJson(join(out, 'tokenizer', name), value);
  console.error(
    `tokenizer: ${flags.tokenizer === undefined ? 'trained' : `reused from ${flags.tokenizer}`} (${((Date.now() - t) / 1000).toFixed(0)} s)`,
  );

  t = Date.now();
  const tok = new Tokenizer(files['tokenizer.json'] as object, files['tokenizer_config.json'] as object);
  const sep = tok.token_to_id(SEPARATOR);
  if (sep === undefined || sep === null) throw new Error('separator missing from the tokenizer');
  const train = new TokenStream();
  const val = new TokenStream();
  const perSource: Record<string, { docs: number; bytes: number; tokens: number; valDocs: number }> = {};
  for (const doc of docs) {
    const ids = tok.encode(doc.text, { add_special_tokens: false }).ids;
    const stream = isValidation(doc.id) ? val : train;
    stream.push([sep, ...ids]);
    const s = (perSource[doc.source] ??= { docs: 0, bytes: 0, tokens: 0, valDocs: 0 });
    if (stream === val) s.valDocs++;
    else {
      s.docs++;
      s.bytes += Buffer.byteLength(doc.text);
      s.tokens += ids.length + 1;
    }
  }
  train.write(join(out, 'train.bin'));
  val.write(join(out, 'val.bin'));
  writeJson(join(out, 'data.json'), {
    vocab_size: vocabSize,
    separator: SEPARATOR,
    separator_id: sep,
    train_tokens: train.tokens,
    val_tokens: val.tokens,
    sources: perSource,
  });
  console.error(
    `encoded: train ${train.tokens} tokens, val ${val.tokens} tokens (${((Date.now() - t) / 1000).toFixed(0)} s)`,
  );
}

runIfMain(import.meta.url, main);
