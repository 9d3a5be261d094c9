/** Up-front checks that turn "cannot open" into a CorpusOpenError with a plain reason. */
import { promises as fsp, type Stats } from 'node:fs';
import { CorpusOpenError } from '../errors.js';

/** stat() that reports a missing or unreadable path as CorpusOpenError. */
export async function statCorpusPath(path: string): Promise<Stats> {
  try {
    const st = await fsp.stat(path);
    await fsp.access(path, fsp.constants.R_OK);
    return st;
  } catch (err) {
    throw new CorpusOpenError(path, describeFsError(err), { cause: err });
  }
}

/** Throws CorpusOpenError unless `path` is an existing, readable regular file. */
export async function assertReadableFile(path: string): Promise<void> {
  const st = await statCorpusPath(path);
  if (!st.isFile())
    throw new CorpusOpenError(path, st.isDirectory() ? 'is a directory, expected a file' : 'not a regular file');
}

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'a parent of this path is not a directory';
  return err instanceof Error ? err.message : String(err);
}
