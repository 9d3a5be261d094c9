/**
 * File globs for corpus inputs (`'data/part-*.jsonl'`), by tinyglobby (picomatch syntax: `*`, `?`, `[…]`, `**`,
 * braces); Node 20 has no fs.glob. Regular files only, dot names only where the pattern spells the dot. Paths come
 * back as the pattern spells them (absolute for an absolute pattern, else relative to the working directory), sorted
 * by code unit, so the same pattern over the same tree gives the same list on every machine.
 */
import { isAbsolute } from 'node:path';
import { glob } from 'tinyglobby';

/** True when `text` has a glob character (`*`, `?` or `[`). */
export function hasGlobChars(text: string): boolean {
  return /[*?[]/.test(text);
}

/** Files matching `pattern`, sorted. */
export async function expandGlob(pattern: string): Promise<string[]> {
  const files = await glob(pattern, { onlyFiles: true, expandDirectories: false, absolute: isAbsolute(pattern) });
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
