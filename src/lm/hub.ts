/**
 * Optional download of a model from the Hugging Face hub into a local cache, for users who are online.
 * Nothing at run time depends on it: a cached or local model directory is used without any network.
 */
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ModelLoadError } from '../errors.js';

export interface HubOptions {
  /** Cache root (default: $TAILGUARD_CACHE or ~/.cache/tailguard/hub). */
  cacheDir?: string;
  revision?: string;
  /** ONNX file inside the repository (default onnx/model.onnx). */
  onnxFile?: string;
  /** Never touch the network (also set by HF_HUB_OFFLINE=1). */
  offline?: boolean;
}

const REQUIRED = ['config.json', 'tokenizer.json'];
const OPTIONAL = ['tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'];

export function isHubId(ref: string): boolean {
  return /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(ref);
}

export function hubCacheDir(id: string, opts: HubOptions = {}): string {
  const root = opts.cacheDir ?? process.env.TAILGUARD_CACHE ?? join(homedir(), '.cache', 'tailguard', 'hub');
  return join(root, id.replace('/', '--'), opts.revision ?? 'main');
}

function isComplete(dir: string, onnxFile: string): boolean {
  return [...REQUIRED, onnxFile].every((f) => existsSync(join(dir, f)));
}

async function download(url: string, dest: string, optional: boolean): Promise<boolean> {
  const res = await fetch(url, { redirect: 'follow' });
  if (res.status === 404 && optional) return false;
  if (!res.ok || !res.body) throw new Error(`GET ${url}: HTTP ${res.status}`);
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = `${dest}.part`;
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(tmp));
  renameSync(tmp, dest);
  return true;
}

/** Returns a local directory holding the model, downloading it first when it is not cached. */
export async function resolveHubModel(id: string, opts: HubOptions = {}): Promise<string> {
  const onnxFile = opts.onnxFile ?? 'onnx/model.onnx';
  const dir = hubCacheDir(id, opts);
  if (isComplete(dir, onnxFile)) return dir;
  const offline = opts.offline ?? ['1', 'true', 'yes'].includes((process.env.HF_HUB_OFFLINE ?? '').toLowerCase());
  const advice =
    `Download the model directory (config.json, tokenizer.json, tokenizer_config.json, ${onnxFile}) on a machine with network ` +
    `access and pass its path as \`model\`, or copy it to ${dir}.`;
  if (offline) throw new ModelLoadError(id, `not in the cache (${dir}) and offline mode is on. ${advice}`);
  const endpoint = (process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/$/, '');
  const base = `${endpoint}/${id}/resolve/${opts.revision ?? 'main'}`;
  try {
    for (const f of REQUIRED) await download(`${base}/${f}`, join(dir, f), false);
    for (const f of OPTIONAL) await download(`${base}/${f}`, join(dir, f), true);
    await download(`${base}/${onnxFile}`, join(dir, onnxFile), false);
    await download(`${base}/${onnxFile}_data`, join(dir, `${onnxFile}_data`), true);
  } catch (err) {
    if (!isComplete(dir, onnxFile)) rmSync(dir, { recursive: true, force: true });
    const cause =
      err instanceof Error
        ? err.cause instanceof Error
          ? `${err.message}: ${err.cause.message}`
          : err.message
        : String(err);
    throw new ModelLoadError(id, `not in the cache (${dir}) and the download failed (${cause}). ${advice}`, {
      cause: err,
    });
  }
  return dir;
}
