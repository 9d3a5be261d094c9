/**
 * Worker thread of a WorkerIndexHost (worker-host.ts): builds one side's index from vectors shared with the main
 * thread (SharedArrayBuffer, no copy) and answers that side's jobs (index-host.ts), posting progress as it goes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LocalIndexHost } from './index-host.js';
import type { HostRequest, HostReply, HostWorkerData } from './worker-host.js';

const { own, other, params, indexFile } = workerData as HostWorkerData;
let host: LocalIndexHost | undefined;

const port = parentPort!;
port.on('message', async (req: HostRequest) => {
  const reply = (r: Omit<HostReply, 'id'>) => port.postMessage({ id: req.id, ...r } satisfies HostReply);
  const onProgress = (stage: string, done: number, total: number) => reply({ progress: [stage, done, total] });
  try {
    if (req.job === 'build') {
      host = LocalIndexHost.open(own, other, params, indexFile, onProgress);
      return reply({ result: null });
    }
    if (!host) throw new Error(`index-worker: '${req.job}' before 'build'`);
    switch (req.job) {
      case 'tuneEf':
        return reply({ result: await host.tuneEf(req.k, req.goal, onProgress) });
      case 'setEf':
        return reply({ result: await host.setEf(req.ef) });
      case 'radii':
        return reply({ result: await host.radii(req.k, onProgress) });
      case 'ballCounts':
        return reply({ result: await host.ballCounts(req.otherRadii, req.limits, onProgress) });
      case 'exactRadii':
        return reply({ result: await host.exactRadii(req.rows, req.k) });
      case 'recountBalls':
        return reply({
          result: await host.recountBalls(req.otherRadii, req.rows, req.exactRadii, req.found, req.limits),
        });
      case 'secondLook':
        return reply({ result: await host.secondLook(req.radii, req.found, req.limits, onProgress) });
      case 'knn':
        return reply({ result: await host.knn(req.rows, req.k) });
      case 'save':
        return reply({ result: await host.save(req.path) });
    }
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    reply({ error: { name: err.name, message: err.message } });
  }
});
