/**
 * Choosing the execution provider. onnxruntime-node bundles CPU (and WebGPU) on Linux; the CUDA provider
 * library is not on npm and is installed separately (`npm run setup:cuda`), next to the binding.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DeviceUnavailableError } from '../errors.js';

export type DeviceRequest = 'auto' | 'cpu' | 'cuda' | 'webgpu';
export type Device = 'cpu' | 'cuda' | 'webgpu';

/** The folder holding onnxruntime_binding.node, where onnxruntime looks for provider libraries. */
export function onnxruntimeBinaryDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

export function cudaProviderInstalled(): boolean {
  return existsSync(join(onnxruntimeBinaryDir(), 'libonnxruntime_providers_cuda.so'));
}

export function gpuVisible(): boolean {
  if (process.env.CUDA_VISIBLE_DEVICES === '' || process.env.CUDA_VISIBLE_DEVICES === '-1') return false;
  try {
    return readdirSync('/dev').some((f) => /^nvidia\d+$/.test(f));
  } catch {
    return false;
  }
}

export function cudaInstallHint(): string {
  return (
    "The CUDA execution provider is not installed. Run `npm run setup:cuda` (online it installs onnxruntime's " +
    `CUDA 12 provider; offline it says which files to copy into ${onnxruntimeBinaryDir()}), and put the CUDA 12 ` +
    'and cuDNN 9 libraries on LD_LIBRARY_PATH. See docs/gpu.md.'
  );
}

/** Devices to try in order: `auto` prefers CUDA when it can possibly work, then CPU. */
export function devicePlan(request: DeviceRequest): Device[] {
  switch (request) {
    case 'cpu':
      return ['cpu'];
    case 'webgpu':
      return ['webgpu'];
    case 'cuda':
      if (!cudaProviderInstalled()) throw new DeviceUnavailableError(`\`device\` cuda: ${cudaInstallHint()}`);
      if (!gpuVisible())
        throw new DeviceUnavailableError(
          '`device` cuda: no NVIDIA GPU is visible (/dev/nvidia* missing or CUDA_VISIBLE_DEVICES empty).',
        );
      return ['cuda'];
    case 'auto':
      return cudaProviderInstalled() && gpuVisible() ? ['cuda', 'cpu'] : ['cpu'];
  }
}
