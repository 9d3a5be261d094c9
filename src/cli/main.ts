/** Entry point of the `tailguard` command. Returns the exit status. */
import { Command, CommanderError } from 'commander';
import { InterruptedError, TailguardError } from '../errors.js';
import { TOOL_VERSION } from '../version.js';
import { flagTable, withFlags } from './flags.js';
import { anchorCommand } from './anchor-command.js';
import { auditCommand } from './audit-command.js';
import { coverageCommand } from './coverage-command.js';
import { weightsCommand } from './weights-command.js';
import { compareCommand } from './compare-command.js';
import { calibrateCommand, detectCommand } from './detect-command.js';
import { mergeCommand } from './merge-command.js';
import { reviewCommand } from './review-command.js';
import { scoreCommand } from './score-command.js';
import { statusCommand } from './status-command.js';
import { tailsCommand } from './tails-command.js';
import { tailbenchCommand } from './tailbench-command.js';

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command('tailguard')
    .description(
      'Keep model collapse out of training data: score corpora with a reference LM, find machine text, keep the tails.',
    )
    .version(TOOL_VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)');
  program.addCommand(
    scoreCommand((c) => {
      exitCode = c;
    }).exitOverride(),
  );
  program.addCommand(
    statusCommand((c) => {
      exitCode = c;
    }).exitOverride(),
  );
  program.addCommand(mergeCommand().exitOverride());
  program.addCommand(
    detectCommand((c) => {
      exitCode = c;
    }).exitOverride(),
  );
  program.addCommand(calibrateCommand().exitOverride());
  program.addCommand(
    auditCommand((c) => {
      exitCode = c;
    }).exitOverride(),
  );
  program.addCommand(coverageCommand().exitOverride());
  program.addCommand(weightsCommand().exitOverride());
  program.addCommand(
    tailsCommand((c) => {
      exitCode = c;
    }).exitOverride(),
  );
  program.addCommand(
    compareCommand((c) => {
      exitCode = c;
    }).exitOverride(),
  );
  program.addCommand(
    anchorCommand((c) => {
      exitCode = c;
    }).exitOverride(),
  );
  program.addCommand(
    tailbenchCommand((c) => {
      exitCode = c;
    }).exitOverride(),
  );
  program.addCommand(reviewCommand().exitOverride());
  const reflowAll = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      sub.description(reflow(sub.description()));
      reflowAll(sub);
    }
  };
  reflowAll(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage errors 2 (commander already printed the message).
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof InterruptedError) {
      process.stderr.write(`tailguard: ${withFlags(err.message, flagTable(program))}\n`);
      return 130;
    }
    if (err instanceof TailguardError) {
      process.stderr.write(`tailguard: ${withFlags(err.message, flagTable(program))}\n`);
      return 2;
    }
    throw err;
  }
  return exitCode;
}

/**
 * Descriptions are written as hand-wrapped paragraphs; commander wraps each line again to the terminal, which breaks
 * them up. So lines within a paragraph are joined and commander wraps the paragraph; blank lines still separate
 * paragraphs, and a paragraph with indented lines (a list, an example) is kept as written.
 */
function reflow(text: string): string {
  return text
    .split('\n\n')
    .map((p) => (/\n[ \t]/.test(p) ? p : p.replace(/\n/g, ' ')))
    .join('\n\n');
}
