/**
 * Child-process driver for the memory part of the bench: one scoreCorpus run, then its peak RSS.
 * Inference and tokenizer workers are threads of this process, so the process's RSS covers them.
 *
 *   node --import tsx bench/mem-driver.ts '{"input":"x.jsonl","out":"dir","batchSize":16,"workers":2}'
 *
 * Prints one JSON line: docs, tokens, seconds, vmHwmMiB (/proc/self/status VmHWM, the number to use),
 * maxRssMiB (getrusage; NOT this process's own peak when started by a bigger parent: Linux keeps the
 * forking parent's high-water mark across exec), and the RSS sampled after each written chunk
 * (first-10%-of-documents max vs last-10% max).
 */
import { readFileSync } from 'node:fs';
import { scoreCorpus, type ScoreOptions } from '../src/index.js';

function vmHwmMiB(): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as Pick<
    ScoreOptions,
    'input' | 'out' | 'model' | 'batchSize' | 'workers' | 'threads' | 'chunkDocs'
  > & { docs: number };
  const samples: { records: number; rssMiB: number }[] = [];
  const t0 = performance.now();
  const summary = await scoreCorpus({
    input: args.input,
    out: args.out,
    model: args.model,
    device: 'cpu',
    batchSize: args.batchSize,
    workers: args.workers,
    threads: args.threads,
    chunkDocs: args.chunkDocs,
    overwrite: true,
    onProgress: (p) => samples.push({ records: p.records, rssMiB: process.memoryUsage.rss() / 2 ** 20 }),
  });
  const seconds = (performance.now() - t0) / 1000;
  const n = summary.counts.input_rows;
  const maxOf = (xs: { rssMiB: number }[]): number | null => (xs.length ? Math.max(...xs.map((s) => s.rssMiB)) : null);
  console.log(
    JSON.stringify({
      docs: n,
      scored: summary.counts.scored,
      tokens: summary.tokens,
      seconds,
      // Linux reports ru_maxrss in KiB.
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      vmHwmMiB: vmHwmMiB(),
      rssFirst10pctMiB: maxOf(samples.filter((s) => s.records <= 0.1 * n)),
      rssLast10pctMiB: maxOf(samples.filter((s) => s.records >= 0.9 * n)),
      samples: samples.length,
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
