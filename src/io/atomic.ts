/**
 * Crash-safe file replacement: readers (and a resumed run) see either the old
 * file or the complete new one, never a half-written file.
 *
 * Recipe: write a temp file in the *same directory* (rename is only atomic
 * within one filesystem), fsync it so its data is durable before the name
 * points at it, rename over the target, then fsync the directory so the
 * rename itself survives a power loss.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A fresh temp path next to `path`, e.g. `dir/.scores.parquet.tmp-1234-9f3a`. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Atomically replace `path` with `data` (a string is written as UTF-8). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    const handle = await fsp.open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(tmp, path);
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDir(dirname(path));
}

/**
 * Move a finished temp file over `finalPath`: fsync its data, rename, fsync the
 * directory. Use for outputs produced by streaming into a temp path.
 */
export async function renameIntoPlace(tmpPath: string, finalPath: string): Promise<void> {
  const handle = await fsp.open(tmpPath, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsp.rename(tmpPath, finalPath);
  await syncDir(dirname(finalPath));
}

/** fsync a directory so a rename/creation in it is durable. Best effort: not all platforms allow it. */
export async function syncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows and some filesystems refuse to open/fsync directories; the rename is still atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
