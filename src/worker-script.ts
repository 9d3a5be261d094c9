import { Worker } from 'node:worker_threads';

/** Worker threads are written in TypeScript; when running from source (tests, tsx) they need tsx's loader. */
export function workerScript(base: string, name: string): { filename: URL; execArgv: string[]; fromSource: boolean } {
  const fromSource = base.endsWith('.ts');
  return {
    filename: new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, base),
    execArgv: fromSource ? ['--import', 'tsx'] : [],
    fromSource,
  };
}

/**
 * A worker thread running module `name` beside `base` (an import.meta.url). From source, the worker first registers
 * tsx's loader itself: `--import tsx` in a worker's execArgv does not reach the worker's own entry module (Node 20).
 */
export function startWorker(base: string, name: string, workerData: unknown): Worker {
  const { filename, fromSource } = workerScript(base, name);
  if (!fromSource) return new Worker(filename, { workerData });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(filename.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
