/**
 * A small file glob for corpus inputs (`'data/part-*.jsonl'`): Node 20 has no fs.glob and no glob library is a
 * dependency. Supports `*` and `?` (never crossing '/'), `[abc]`, `[a-z]`, `[!abc]` within one path segment, and a
 * whole segment `**` for any number of directories. Names starting with '.' match only a pattern segment that starts
 * with '.'. Returns regular files (and links to them), '/'-joined as the pattern spells its directories, sorted by
 * code unit, so the same pattern over the same tree gives the same list on every machine.
 */
import { promises as fsp, type Dirent } from 'node:fs';

/** True when `text` has a glob character (`*`, `?` or `[`). */
export function hasGlobChars(text: string): boolean {
  return /[*?[]/.test(text);
}

/** The regular expression of one path segment of a glob. */
export function segmentRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (m) => `\\${m}`)}]`;
      i = close;
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, (m) => `\\${m}`);
  }
  return new RegExp(`^${re}$`);
}

/** Files matching `pattern`, sorted. */
export async function expandGlob(pattern: string): Promise<string[]> {
  const segments = pattern.split('/');
  let fixed = 0;
  while (fixed < segments.length - 1 && !hasGlobChars(segments[fixed]!)) fixed++;
  const prefix = segments.slice(0, fixed).join('/');
  const dir = fixed === 0 ? '.' : prefix === '' ? '/' : prefix;
  const out = new Set<string>();
  await walk(dir, fixed === 0 ? '' : `${prefix}/`, segments.slice(fixed), out);
  return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function walk(dir: string, shown: string, rest: string[], out: Set<string>): Promise<void> {
  const [segment, ...after] = rest;
  if (segment === undefined) return;
  let entries: Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  if (segment === '**') {
    // Zero directories, then one more level with `**` still to match.
    await walk(dir, shown, after, out);
    for (const e of entries)
      if (!e.name.startsWith('.') && e.isDirectory()) await walk(`${dir}/${e.name}`, `${shown}${e.name}/`, rest, out);
    return;
  }
  const re = segmentRegExp(segment);
  for (const e of entries) {
    if (e.name.startsWith('.') && !segment.startsWith('.')) continue;
    if (!re.test(e.name)) continue;
    const k = await kind(dir, e);
    if (after.length === 0) {
      if (k === 'file') out.add(`${shown}${e.name}`);
    } else if (k === 'dir') await walk(`${dir}/${e.name}`, `${shown}${e.name}/`, after, out);
  }
}

async function kind(dir: string, e: Dirent): Promise<'file' | 'dir' | 'other'> {
  if (e.isFile()) return 'file';
  if (e.isDirectory()) return 'dir';
  if (!e.isSymbolicLink()) return 'other';
  // Links to files are followed; links to directories only where a pattern segment names them (no `**` cycles).
  const st = await fsp.stat(`${dir}/${e.name}`).catch(() => undefined);
  return st?.isFile() ? 'file' : st?.isDirectory() ? 'dir' : 'other';
}
