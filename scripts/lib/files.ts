/** Small file helpers shared by the model-writing scripts. */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes `value` as 2-space indented JSON with a trailing newline (creating parent folders). */
export function writeJson(path: string, value: unknown): void {
  writeBytes(path, JSON.stringify(value, null, 2) + '\n');
}

export function writeBytes(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

/** True when the module at `importMetaUrl` is the script node was started with. */
export function isMain(importMetaUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && pathToFileURL(entry).href === importMetaUrl;
}

/** Minimal `--name value` parser; unknown flags are an error. */
export function parseFlags(argv: string[], known: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(a);
    if (!m || !known.includes(m[1]!))
      throw new Error(`unknown argument ${a} (expected ${known.map((k) => `--${k}`).join(', ')})`);
    if (m[2] !== undefined) out[m[1]!] = m[2];
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`--${m[1]} needs a value`);
      out[m[1]!] = v;
    }
  }
  return out;
}

/** Runs a script's main() when the file is executed directly; errors become one line and exit 1. */
export function runIfMain(importMetaUrl: string, main: () => void | Promise<void>): void {
  if (!isMain(importMetaUrl)) return;
  const fail = (e: unknown): never => {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  };
  try {
    const done = main();
    if (done) done.catch(fail);
  } catch (e) {
    fail(e);
  }
}
