/** `npm run setup:cuda` without a provider to install: it says exactly what to put where. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cudaProviderInstalled, onnxruntimeBinaryDir } from '../../src/lm/device.js';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'setup-cuda.mjs');
const run = (args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });

describe('setup:cuda', () => {
  it('--check reports whether the provider is installed, and where', () => {
    const r = run(['--check']);
    expect(r.status).toBe(cudaProviderInstalled() ? 0 : 1);
    expect(r.stdout).toContain(onnxruntimeBinaryDir());
  });

  it('--from a folder without the libraries names the files and the folder they go to', () => {
    const r = run(['--from', import.meta.dirname]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('libonnxruntime_providers_cuda.so not found');
    expect(r.stderr).toContain(onnxruntimeBinaryDir());
    expect(r.stderr).toMatch(/Microsoft\.ML\.OnnxRuntime\.Gpu\.Linux \d+\.\d+\.\d+/);
  });
});
