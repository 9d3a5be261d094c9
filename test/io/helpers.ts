import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { BadRecord, DocRecord, InputRecord } from '../../src/io/records.js';

/** A temp directory removed after the test file finishes. */
export function tempDir(prefix = 'tailguard-io-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export function docs(recs: InputRecord[]): DocRecord[] {
  return recs.filter((r): r is DocRecord => r.kind === 'doc');
}

export function bads(recs: InputRecord[]): BadRecord[] {
  return recs.filter((r): r is BadRecord => r.kind === 'bad');
}

/** Chunks of `bytes` of the given sizes (cycled), as an async stream. */
export async function* chunked(bytes: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let off = 0;
  let i = 0;
  while (off < bytes.length) {
    const n = Math.max(1, sizes[i++ % sizes.length]!);
    yield bytes.subarray(off, off + n);
    off += n;
  }
}
