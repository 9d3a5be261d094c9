/**
 * Library errors name options as the library spells them, in backticks (`targetFpr`, `batchSize`); the CLI shows
 * the flag a user types instead. The table comes from the commands' own options (commander's attribute name of
 * `--max-batch-tokens` is `maxBatchTokens`), plus the few library options whose flag is spelled differently.
 */
import type { Command } from 'commander';

const RENAMED: Record<string, string> = {
  targetFpr: '--fpr',
  'index.m': '--m',
  'index.efConstruction': '--ef-construction',
  'index.efSearch': '--ef-search',
  'indexRecall.target': '--index-recall',
  'indexRecall.maxEf': '--max-ef-search',
};

export function flagTable(program: Command): Map<string, string> {
  const table = new Map<string, string>(Object.entries(RENAMED));
  // Subcommands too (`anchor check`, `tails export`, `review import`), depth first.
  const visit = (cmd: Command): void => {
    for (const opt of cmd.options)
      if (opt.long && !table.has(opt.attributeName())) table.set(opt.attributeName(), opt.long);
    for (const sub of cmd.commands) visit(sub);
  };
  visit(program);
  return table;
}

/** Each `name` that is a known option becomes its flag; other backticked text (a command, a file) is kept. */
export function withFlags(message: string, table: ReadonlyMap<string, string>): string {
  return message.replace(
    /`([A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)?)`/g,
    (whole, name: string) => table.get(name) ?? whole,
  );
}
