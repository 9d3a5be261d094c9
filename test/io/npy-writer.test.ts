import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStateError } from '../../src/errors.js';
import { NPY_HEADER_BYTES, NpyWriter, npyHeader, readNpy } from '../../src/io/npy-writer.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
let n = 0;
const path = () => join(dir, `m${n++}.npy`);

const python = (() => {
  for (const exe of ['python3', 'python']) {
    try {
      execFileSync(exe, ['-c', 'import numpy'], { stdio: 'ignore' });
      return exe;
    } catch {
      // try the next one
    }
  }
  return undefined;
})();

function rows(count: number, dim: number, start = 0): Float32Array {
  const a = new Float32Array(count * dim);
  for (let i = 0; i < a.length; i++) a[i] = (start * dim + i) * 0.5 - 3;
  return a;
}

describe('npyHeader', () => {
  it('is byte-exact NPY v1.0 with a 128-byte header', () => {
    const h = npyHeader(3, 4);
    expect(h.length).toBe(128);
    expect([...h.subarray(0, 10)]).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
    expect(Buffer.from(h.subarray(10)).toString('latin1')).toBe(dict + ' '.repeat(117 - dict.length) + '\n');
  });

  it('fits very large row counts', () => {
    expect(npyHeader(Number.MAX_SAFE_INTEGER, 100_000).length).toBe(128);
  });
});

describe('NpyWriter', () => {
  it('writes rows and batches incrementally and patches N on close', async () => {
    const p = path();
    const w = await NpyWriter.create(p, 4);
    await w.append(rows(1, 4, 0));
    await w.append(rows(2, 4, 1));
    await w.append([rows(1, 4, 3), rows(1, 4, 4)]);
    await expect(w.append(new Float32Array(3))).rejects.toThrow(/multiple of the row size 4/);
    expect(w.rows).toBe(5);
    await w.close();
    const m = readNpy(p);
    expect(m.shape).toEqual([5, 4]);
    expect([...m.data]).toEqual([...rows(5, 4)]);
    expect(statSync(p).size).toBe(NPY_HEADER_BYTES + 5 * 4 * 4);
  });

  it('writes a valid empty (0, D) array', async () => {
    const p = path();
    await (await NpyWriter.create(p, 8)).close();
    expect(readNpy(p)).toEqual({ shape: [0, 8], data: new Float32Array(0) });
  });

  it('sync() leaves a valid file mid-run', async () => {
    const p = path();
    const w = await NpyWriter.create(p, 2);
    await w.append(rows(3, 2));
    await w.sync();
    expect(readNpy(p).shape).toEqual([3, 2]);
    await w.append(rows(1, 2, 3));
    await w.close();
    expect(readNpy(p).shape).toEqual([4, 2]);
  });

  it('resumes after a crash: truncates to the checkpointed rows and appends', async () => {
    const p = path();
    const w = await NpyWriter.create(p, 3);
    await w.append(rows(4, 3));
    await w.sync(); // checkpoint: 4 rows
    await w.append(rows(2, 3, 4)); // written after the checkpoint, then "crash"
    await w.close();
    // Simulate a torn write too: half a row of garbage at the end.
    writeFileSync(p, Buffer.concat([readFileSync(p), Buffer.alloc(6, 0xaa)]));

    const r = await NpyWriter.open(p, 3, { resumeRows: 4 });
    expect(r.rows).toBe(4);
    await r.append(rows(3, 3, 4));
    await r.close();
    const m = readNpy(p);
    expect(m.shape).toEqual([7, 3]);
    expect([...m.data]).toEqual([...rows(7, 3)]);
  });

  it('without resumeRows keeps all complete rows and drops a torn one', async () => {
    const p = path();
    const w = await NpyWriter.create(p, 2);
    await w.append(rows(3, 2));
    await w.close();
    writeFileSync(p, Buffer.concat([readFileSync(p), Buffer.alloc(5, 1)]));
    const r = await NpyWriter.open(p, 2);
    expect(r.rows).toBe(3);
    await r.close();
    expect(statSync(p).size).toBe(128 + 3 * 2 * 4);
  });

  it('resumeRows 0 starts fresh (even with no file)', async () => {
    const p = path();
    const w = await NpyWriter.open(p, 5, { resumeRows: 0 });
    await w.append(rows(1, 5));
    await w.close();
    expect(readNpy(p).shape).toEqual([1, 5]);
  });

  it('refuses to resume with the wrong dimension, too few rows, or a missing file', async () => {
    const p = path();
    const w = await NpyWriter.create(p, 4);
    await w.append(rows(2, 4));
    await w.close();
    await expect(NpyWriter.open(p, 5, { resumeRows: 1 })).rejects.toThrow(RunStateError);
    await expect(NpyWriter.open(p, 4, { resumeRows: 3 })).rejects.toThrow(/holds 2 rows, the checkpoint expects 3/);
    await expect(NpyWriter.open(join(dir, 'none.npy'), 4, { resumeRows: 1 })).rejects.toThrow(RunStateError);
  });

  it('readNpy validates magic and dtype', () => {
    const p = path();
    writeFileSync(p, 'not numpy');
    expect(() => readNpy(p)).toThrow(/bad magic/);
    const h = Buffer.from(npyHeader(1, 1));
    h.write("{'descr': '<f8'", 10, 'latin1');
    writeFileSync(p, Buffer.concat([h, Buffer.alloc(8)]));
    expect(() => readNpy(p)).toThrow(/not little-endian float32/);
  });

  describe.skipIf(!python)('against numpy', () => {
    it('numpy.load reads our file, and numpy.save writes the same header', async () => {
      const p = path();
      const w = await NpyWriter.create(p, 4);
      await w.append(rows(3, 4));
      await w.close();
      const script = [
        'import sys, numpy as np',
        'a = np.load(sys.argv[1])',
        'assert a.dtype == np.float32 and a.shape == (3, 4), (a.dtype, a.shape)',
        'expected = (np.arange(12, dtype=np.float32) * 0.5 - 3).reshape(3, 4)',
        'assert np.array_equal(a, expected), a',
        'np.save(sys.argv[2], expected)',
      ].join('\n');
      const theirs = join(dir, 'numpy.npy');
      execFileSync(python!, ['-c', script, p, theirs]);
      expect(readFileSync(theirs).subarray(0, 128)).toEqual(readFileSync(p).subarray(0, 128));
      expect(readFileSync(theirs)).toEqual(readFileSync(p));
    });
  });
});
