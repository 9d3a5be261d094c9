/**
 * How npm meets the project: `npx tailguard` prints no npm warning (no unknown keys in a project .npmrc), and
 * onnxruntime-node's install script, which would download the CUDA provider from outside the npm registry, is
 * denied through package.json's allowScripts (npm 11.19+ skips denied scripts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  allowScripts?: Record<string, boolean>;
};

describe('npm and the project', () => {
  it('npx tailguard --version prints the version and no npm warning', () => {
    const r = spawnSync('npm', ['exec', '--offline', '--no', '--', 'tailguard', '--version'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
    expect(r.stderr).not.toMatch(/npm warn/i);
  });

  it("denies onnxruntime-node's install script and allows the native builds it needs", () => {
    expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
    expect(pkg.allowScripts?.['hnswlib-node']).toBe(true);
  });
});
