/** Process entry of the CLI (bin/tailguard.js loads the compiled copy). */
import { main } from './main.js';

main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`tailguard: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 2;
  },
);
