/**
 * Raw byte streams for line-oriented inputs, with transparent decompression.
 *
 * Everything here is a pull-based AsyncIterable<Uint8Array>, so a slow consumer
 * (the model) applies back-pressure all the way down to the file read and memory
 * stays at a few chunks no matter how large the corpus is.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Readable, pipeline } from 'node:stream';
import { Decompress } from 'fzstd';

export type Compression = 'none' | 'gzip' | 'zstd';

/** Read size for corpus files: large enough to amortise syscalls, small enough to not matter. */
export const READ_CHUNK_BYTES = 1 << 20;

/** Compression implied by a file name's last extension (.gz, .zst/.zstd). */
export function compressionFromPath(path: string): Compression {
  const lower = path.toLowerCase();
  if (lower.endsWith('.gz')) return 'gzip';
  if (lower.endsWith('.zst') || lower.endsWith('.zstd')) return 'zstd';
  return 'none';
}

/** Compression recognised from the first bytes of a stream (for stdin, which has no name). */
export function compressionFromMagic(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** The (compressed) bytes of a file, streamed. */
export function fileBytes(path: string): AsyncIterable<Uint8Array> {
  return createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
}

/** Decompressed bytes of `source`. */
export function decompress(source: AsyncIterable<Uint8Array>, compression: Compression): AsyncIterable<Uint8Array> {
  switch (compression) {
    case 'none':
      return source;
    case 'gzip':
      return gunzip(source);
    case 'zstd':
      return zstdDecompress(source);
  }
}

/**
 * gunzip via node:zlib. Concatenated gzip members (as produced by `cat a.gz b.gz`
 * or pigz) are handled by zlib itself. stream.pipeline propagates errors and
 * early exits both ways: a corrupt member makes iteration throw, and a consumer
 * that stops early destroys the file stream too.
 */
async function* gunzip(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const input = source instanceof Readable ? source : Readable.from(source, { objectMode: false });
  const gz = pipeline(input, createGunzip({ chunkSize: 256 * 1024 }), () => {
    // Errors surface through the iteration below; nothing to do here.
  });
  for await (const out of gz) yield out as Uint8Array;
}

/**
 * zstd via fzstd's streaming Decompress (Node 20 has no built-in zstd).
 * fzstd calls `ondata` synchronously inside push(), so we collect its output
 * per input slice and yield it afterwards. Input is fed in 4 KiB slices so the
 * output held at once is about 4 KiB x the compression ratio (tens of KiB for
 * text; a pathological 600x-compressible test file peaked at ~25 MB live).
 * fzstd also keeps one window buffer per frame (the frame's window size, e.g.
 * 2-8 MiB at normal levels).
 *
 * Caveat (fzstd): back-references are limited to 2^25 bytes, so frames made with
 * `--ultra`/`--long` windows above 32 MiB may fail to decode (reported as a read error).
 */
async function* zstdDecompress(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let out: Uint8Array[] = [];
  const dec = new Decompress((data) => {
    if (data.length > 0) out.push(data);
  });
  const SLICE = 4 * 1024;
  for await (const chunk of source) {
    for (let off = 0; off < chunk.length; off += SLICE) {
      dec.push(chunk.subarray(off, Math.min(off + SLICE, chunk.length)));
      if (out.length > 0) {
        const ready = out;
        out = [];
        yield* ready;
      }
    }
  }
  dec.push(new Uint8Array(0), true); // throws if the stream ended mid-frame
  yield* out;
}

/**
 * Split off the first bytes of a stream to sniff them, then give back a stream
 * that still yields everything.
 */
export async function sniff(
  source: AsyncIterable<Uint8Array>,
  want = 4,
): Promise<{ head: Uint8Array; stream: AsyncIterable<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  const held: Uint8Array[] = [];
  let have = 0;
  let done = false;
  while (have < want) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    held.push(r.value);
    have += r.value.length;
  }
  const head = Buffer.concat(held).subarray(0, want);
  async function* rest(): AsyncGenerator<Uint8Array> {
    yield* held;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { head, stream: rest() };
}
