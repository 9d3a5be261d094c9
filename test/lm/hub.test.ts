/** Hub models: downloaded once into the cache (here from a loopback server), then used offline. */
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModel } from '../../src/lm/model-dir.js';

const MODEL = join(import.meta.dirname, '..', '..', 'models', 'stories260k');
let server: Server;
let endpoint: string;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const m = /^\/acme\/tiny-stories\/resolve\/main\/(.+)$/.exec(req.url ?? '');
    const path = m ? join(MODEL, m[1]!) : '';
    if (!m || !existsSync(path)) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.end(readFileSync(path));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  endpoint = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('hub models', () => {
  it('downloads into the cache when online, then resolves from the cache without the network', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'tailguard-hub-'));
    const prev = process.env.HF_ENDPOINT;
    process.env.HF_ENDPOINT = endpoint;
    try {
      const first = await resolveModel('acme/tiny-stories', { cacheDir });
      expect(first.source).toBe('hub');
      expect(readFileSync(first.onnxPath).equals(readFileSync(join(MODEL, 'onnx', 'model.onnx')))).toBe(true);
      const seen = requests.length;
      const again = await resolveModel('acme/tiny-stories', { cacheDir, offline: true });
      expect(again.dir).toBe(first.dir);
      expect(requests.length).toBe(seen);
    } finally {
      if (prev === undefined) delete process.env.HF_ENDPOINT;
      else process.env.HF_ENDPOINT = prev;
    }
  });

  it('fails clearly when the hub is unreachable and nothing is cached', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'tailguard-hub-'));
    const prev = process.env.HF_ENDPOINT;
    process.env.HF_ENDPOINT = 'http://127.0.0.1:9';
    try {
      await expect(resolveModel('acme/absent', { cacheDir })).rejects.toThrow(
        /acme\/absent: not in the cache .* download failed .*`model`/,
      );
      expect(existsSync(join(cacheDir, 'acme--absent'))).toBe(false);
    } finally {
      if (prev === undefined) delete process.env.HF_ENDPOINT;
      else process.env.HF_ENDPOINT = prev;
    }
  });
});
