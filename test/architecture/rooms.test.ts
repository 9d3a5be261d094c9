/**
 * The rooms of src/ (its top-level folders) import one another in one direction: no circle of value imports between
 * two rooms (type-only imports are erased and may point back). Data flows read → score → derive → write.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const roomOf = (file: string): string => {
  const parts = relative(SRC, file).split('/');
  return parts.length > 1 ? parts[0]! : '(top)';
};

describe('rooms of src/', () => {
  it('no two rooms import values from each other', () => {
    const edges = new Map<string, Set<string>>();
    for (const file of sources(SRC)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'(\.[^']+)\.js'/gms)) {
        const from = roomOf(file);
        const to = roomOf(resolve(dirname(file), m[1]!) + '.ts');
        if (from !== to && from !== '(top)' && to !== '(top)') {
          if (!edges.has(from)) edges.set(from, new Set());
          edges.get(from)!.add(to);
        }
      }
    }
    const circles = [...edges].flatMap(([a, tos]) =>
      [...tos].filter((b) => a < b && edges.get(b)?.has(a)).map((b) => `${a} <-> ${b}`),
    );
    expect(circles).toEqual([]);
  });
});
