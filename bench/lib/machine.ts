/**
 * One line naming the machine a bench ran on: CPU model (and hypervisor), cores, memory, Node, commit, load average.
 * Every bench's results carry it, since this machine's speed drifts and numbers mean nothing without it.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';

export function machineDescription(root: string): string {
  let cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  try {
    const ls = execFileSync('lscpu', { encoding: 'utf8' });
    const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(ls)?.[1]?.trim();
    cpu = [field('Model name') ?? cpu, field('Hypervisor vendor') ? `${field('Hypervisor vendor')} guest` : '']
      .filter(Boolean)
      .join(', ');
  } catch {
    /* lscpu missing: keep os.cpus() */
  }
  const commit = benchCommit(root);
  const memory = `${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');
  return `${cpu}, ${cpus().length} cores (lscpu), ${memory}; Node ${process.version}; commit ${commit}; load average at start ${load}`;
}

/** The checkout's short commit, marked when src/ has uncommitted changes (the code measured is then not that commit). */
export function benchCommit(root: string): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8' }).trim();
    return dirty ? `${commit} (src/ has uncommitted changes)` : commit;
  } catch {
    return 'unknown'; // not a checkout
  }
}
