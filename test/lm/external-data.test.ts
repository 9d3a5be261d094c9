/** Graphs whose weights live in a separate file (ONNX external data, as big hub exports do) score the same. */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '../../src/onnx/proto.js';
import { scoreCorpus } from '../../src/score/score-corpus.js';

const MODEL = join(import.meta.dirname, '..', '..', 'models', 'stories260k');

/** Copies the model directory, moving every initializer's bytes into onnx/model.onnx_data. */
function withExternalData(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tailguard-extdata-'));
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json'])
    copyFileSync(join(MODEL, f), join(dir, f));
  mkdirSync(join(dir, 'onnx'));
  const proto = decodeModel(readFileSync(join(MODEL, 'onnx', 'model.onnx')));
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of proto.graph?.initializer ?? []) {
    const raw = t.rawData;
    if (!raw || raw.length < 1024) continue; // onnx.save_model's default size_threshold keeps small tensors inline
    chunks.push(raw);
    t.externalData = [
      { key: 'location', value: 'model.onnx_data' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    t.dataLocation = 1;
    t.rawData = new Uint8Array(0);
    offset += raw.length;
  }
  writeFileSync(join(dir, 'onnx', 'model.onnx_data'), Buffer.concat(chunks));
  writeFileSync(join(dir, 'onnx', 'model.onnx'), encodeModel(proto));
  return dir;
}

describe('external data', () => {
  it('loads a graph with external weights and scores exactly as the inline one', async () => {
    const ext = withExternalData();
    expect(readFileSync(join(ext, 'onnx', 'model.onnx')).length).toBeLessThan(200_000);
    const work = mkdtempSync(join(tmpdir(), 'tailguard-extdata-run-'));
    const input = join(work, 'in.jsonl');
    writeFileSync(input, `${JSON.stringify({ text: 'Once upon a time, there was a little girl named Lily.' })}\n`);
    await scoreCorpus({ input, out: join(work, 'inline'), device: 'cpu', model: MODEL });
    await scoreCorpus({ input, out: join(work, 'external'), device: 'cpu', model: ext });
    const row = (d: string) => JSON.parse(readFileSync(join(work, d, 'scores.jsonl'), 'utf8'));
    expect(row('external')).toEqual(row('inline'));
  });
});
