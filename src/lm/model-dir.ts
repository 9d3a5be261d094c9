/**
 * A model is a directory in the Hugging Face / transformers.js layout (config.json, tokenizer.json,
 * tokenizer_config.json, onnx/*.onnx). `--model` names one by path, by the name of a model bundled in
 * this package's models/, or by hub id (downloaded into a cache when online).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelLoadError } from '../errors.js';
import { isHubId, resolveHubModel, type HubOptions } from './hub.js';

/**
 * The model used when none is named: tailguard's own general-English reference LM (models/tailguard-ref-6m).
 * stories260k stays bundled as the small test model.
 */
export const DEFAULT_MODEL = 'tailguard-ref-6m';

export interface ResolvedModel {
  /** What the user asked for. */
  ref: string;
  dir: string;
  onnxPath: string;
  source: 'path' | 'bundled' | 'hub';
}

export function packageRoot(): string {
  // src/lm/model-dir.ts and dist/lm/model-dir.js both sit two levels below the package root.
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export function bundledModelsDir(): string {
  return join(packageRoot(), 'models');
}

function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

function findOnnx(dir: string, ref: string, onnxFile?: string): string {
  const candidates = onnxFile
    ? [onnxFile]
    : ['onnx/model.onnx', 'model.onnx', 'onnx/decoder_model.onnx', 'decoder_model.onnx'];
  for (const c of candidates) {
    const p = join(dir, c);
    if (existsSync(p)) return p;
  }
  throw new ModelLoadError(
    ref,
    `no ONNX graph in ${dir} (looked for ${candidates.join(', ')}); name one with \`onnxFile\``,
  );
}

export async function resolveModel(ref: string = DEFAULT_MODEL, opts: HubOptions = {}): Promise<ResolvedModel> {
  let dir: string;
  let source: ResolvedModel['source'];
  if (isDir(ref)) {
    dir = resolve(ref);
    source = 'path';
  } else if (isDir(join(bundledModelsDir(), ref))) {
    dir = join(bundledModelsDir(), ref);
    source = 'bundled';
  } else if (isHubId(ref) && !ref.startsWith('.')) {
    dir = await resolveHubModel(ref, opts);
    source = 'hub';
  } else {
    throw new ModelLoadError(
      ref,
      `not a model directory, a bundled model (${bundledModelsDir()}) or a hub id (owner/name)`,
    );
  }
  for (const f of ['config.json', 'tokenizer.json']) {
    if (!existsSync(join(dir, f))) throw new ModelLoadError(ref, `${dir} has no ${f}`);
  }
  return { ref, dir, onnxPath: findOnnx(dir, ref, opts.onnxFile), source };
}
