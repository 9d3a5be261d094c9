/**
 * Progress on stderr: a live bar on a terminal, a plain line every few seconds otherwise (logs, CI),
 * nothing with --quiet. stdout stays free for machine-readable output.
 */
import { createReadStream, statSync } from 'node:fs';
import { compressionFromPath } from '../io/byte-source.js';
import { countFileLines, listCorpusFiles } from '../io/corpus-files.js';
import { listTextFiles } from '../io/read-textdir.js';
import cliProgress from 'cli-progress';
import type { Progress } from '../score/score-corpus.js';
import type { OnProgress } from '../progress.js';

export interface ProgressSink {
  start(message: string): void;
  update(p: Progress): void;
  stop(): void;
}

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function describe(p: Progress): string {
  return (
    `${fmt(p.records)} rows (${fmt(p.scored)} scored, ${fmt(p.errors)} errors), ${fmt(p.tokens)} tokens, ` +
    `${fmt(p.tokensPerSecond)} tok/s, ${fmt(p.docsPerSecond, 1)} docs/s, ${p.device}`
  );
}

/**
 * Rows in the input when that is cheap to know (plain JSONL: count newlines at disk speed; a directory:
 * count its .txt files; many files: their lines or Parquet rows); undefined for compressed or streamed input, where
 * no ETA is shown.
 */
export async function countRows(input: string): Promise<number | undefined> {
  if (input === '-') return undefined;
  try {
    const files = await listCorpusFiles(input);
    if (files) {
      if (files.some((f) => compressionFromPath(f) !== 'none')) return undefined;
      let rows = 0;
      for (const f of files) rows += await countFileLines(f);
      return rows;
    }
    const st = statSync(input);
    if (st.isDirectory()) return (await listTextFiles(input)).length;
    if (!/\.(jsonl|ndjson|json)$/i.test(input)) return undefined;
    let lines = 0;
    let last = 10;
    for await (const chunk of createReadStream(input, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      last = chunk[chunk.length - 1] ?? 10;
    }
    return lines + (last === 10 ? 0 : 1);
  } catch {
    return undefined;
  }
}

export function progressSink(opts: {
  quiet: boolean;
  tty: boolean;
  totalRows: Promise<number | undefined>;
  intervalMs?: number;
}): ProgressSink {
  const write = (s: string): void => {
    process.stderr.write(`${s}\n`);
  };
  if (opts.quiet) return { start() {}, update() {}, stop() {} };
  if (!opts.tty) {
    let last = 0;
    let latest: Progress | undefined;
    return {
      start: (m) => write(`tailguard: ${m}`),
      update(p) {
        latest = p;
        if (Date.now() - last >= (opts.intervalMs ?? 10_000)) {
          last = Date.now();
          write(`tailguard: ${describe(p)}`);
          latest = undefined;
        }
      },
      stop() {
        if (latest) write(`tailguard: ${describe(latest)}`);
        latest = undefined;
      },
    };
  }
  let total: number | undefined;
  void opts.totalRows.then((t) => {
    total = t;
  });
  // The row count (for the bar and ETA) is known only for plain files; without it, counts and rates.
  const makeBar = (known: boolean) =>
    new cliProgress.SingleBar(
      {
        format: known
          ? '{bar} {percentage}% | {value}/{total} rows | {tps} tok/s | {dps} docs/s | {errors} errors | ETA {eta_formatted} | {device}'
          : '{value} rows | {tps} tok/s | {dps} docs/s | {errors} errors | {duration_formatted} | {device}',
        barsize: 24,
        hideCursor: true,
        stream: process.stderr,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
  let bar = makeBar(false);
  let started = false;
  return {
    start: (m) => write(`tailguard: ${m}`),
    update(p) {
      const payload = {
        tps: fmt(p.tokensPerSecond),
        dps: fmt(p.docsPerSecond, 1),
        errors: fmt(p.errors),
        device: p.device,
      };
      if (!started) {
        bar = makeBar(total !== undefined);
        bar.start(total ?? 0, p.records, payload);
        started = true;
      }
      bar.update(p.records, payload);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

/**
 * Progress of a staged library computation (OnProgress: coverage's index builds, radii and ball queries) on stderr:
 * on a terminal a bar per stage with its ETA; otherwise a line when a stage starts and every `intervalMs`.
 */
export function stageProgress(opts: { quiet: boolean; tty: boolean; intervalMs?: number }): {
  onProgress: OnProgress;
  stop(): void;
} {
  if (opts.quiet) return { onProgress: () => undefined, stop: () => undefined };
  let stage = '';
  let last = 0;
  let bar: cliProgress.SingleBar | undefined;
  const onProgress: OnProgress = (s, done, total) => {
    if (s !== stage) {
      bar?.stop();
      bar = undefined;
      stage = s;
      last = Date.now();
      if (opts.tty) {
        bar = new cliProgress.SingleBar(
          {
            format: `${s.padEnd(16)} {bar} {percentage}% | {value}/{total} | ETA {eta_formatted}`,
            barsize: 24,
            hideCursor: true,
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, done);
      } else process.stderr.write(`tailguard: ${s}: ${fmt(total)} points\n`);
      return;
    }
    if (bar) bar.update(done);
    else if (Date.now() - last >= (opts.intervalMs ?? 10_000)) {
      last = Date.now();
      process.stderr.write(`tailguard: ${s}: ${fmt(done)} / ${fmt(total)}\n`);
    }
  };
  return { onProgress, stop: () => bar?.stop() };
}
