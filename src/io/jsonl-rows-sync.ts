import { closeSync, openSync, readSync } from 'node:fs';
import { TailguardError } from '../errors.js';
import { LineSplitter } from './line-splitter.js';

/**
 * Calls `visit` with every non-blank line of a JSONL file parsed, in order, synchronously and a 1 MiB block at a
 * time: for callers that load a whole embedding set synchronously and need one field per row (ids, lines) without
 * holding the file as one string (which Node caps at 512 MiB).
 */
export function forEachJsonlRowSync(path: string, visit: (row: Record<string, unknown>, index: number) => void): void {
  const fd = openSync(path, 'r');
  const decoder = new TextDecoder();
  const splitter = new LineSplitter();
  const block = new Uint8Array(1 << 20);
  let index = 0;
  const take = (bytes: Uint8Array | undefined): void => {
    if (!bytes) throw new TailguardError(`${path}: a line is longer than ${splitter.maxLineBytes} bytes`);
    const text = decoder.decode(bytes);
    if (!text.trim()) return;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new TailguardError(`${path}: row ${index + 1} is not JSON (${(err as Error).message})`);
    }
    visit(row, index++);
  };
  try {
    for (;;) {
      const got = readSync(fd, block, 0, block.length, null);
      if (got === 0) break;
      for (const l of splitter.push(block.subarray(0, got))) take(l.bytes);
    }
    for (const l of splitter.end()) take(l.bytes);
  } finally {
    closeSync(fd);
  }
}
