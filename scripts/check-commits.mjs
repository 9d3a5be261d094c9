#!/usr/bin/env node
// Commit messages since the rule began (836f9c9): a subject of at most 72 characters, then a body saying why.
// Merge commits need no body. Run by `npm run lint` (and so by .ci/run); prints each offender and exits 1.
import { execFileSync } from 'node:child_process';

const SINCE = '836f9c9';
const git = (...args) => execFileSync('git', args, { encoding: 'utf8' });
let range = `${SINCE}..HEAD`;
try {
  git('cat-file', '-e', `${SINCE}^{commit}`);
} catch {
  console.log('check-commits: history before this rule is not here (shallow clone?); checking nothing');
  process.exit(0);
}
const log = git('log', '--format=%H%x00%P%x00%s%x00%b%x1e', range);
const problems = [];
for (const entry of log
  .split('\x1e')
  .map((e) => e.trim())
  .filter(Boolean)) {
  const [hash, parents, subject, body] = entry.split('\x00');
  const merge = parents.trim().split(' ').length > 1;
  if (subject.length > 72)
    problems.push(`${hash.slice(0, 8)}: subject is ${subject.length} characters (at most 72): ${subject}`);
  if (!merge && !body?.trim()) problems.push(`${hash.slice(0, 8)}: no body saying why: ${subject}`);
}
for (const p of problems) console.error(`check-commits: ${p}`);
process.exit(problems.length ? 1 : 0);
