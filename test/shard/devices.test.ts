/**
 * run.json says which execution provider and device id each inference worker used, and CUDA_VISIBLE_DEVICES (which
 * GPUs those ids are in the one-process-per-GPU layout); a merged sharded run lists each shard's. Checked on CPU: the
 * provider is cpu with no device id, one entry per worker, and the variable is copied from each process's environment.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CUDA_DEVICE_ID } from '../../src/lm/session.js';
import { scoreCorpus } from '../../src/score/score-corpus.js';
import { mergeShards } from '../../src/score/shards/merge.js';
import { runCli } from '../helpers/cli.js';

describe('devices in run.json', () => {
  it('one entry per inference worker; each shard process its own CUDA_VISIBLE_DEVICES; merge lists them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-devices-'));
    const input = join(dir, 'in.jsonl');
    writeFileSync(
      input,
      Array.from({ length: 12 }, (_, i) => JSON.stringify({ text: `Once upon a time there was story ${i}.` })).join(
        '\n',
      ),
    );
    const two = await scoreCorpus({
      input,
      out: join(dir, 'two'),
      model: 'stories260k',
      device: 'cpu',
      workers: 2,
      threads: 1,
      chunkDocs: 4,
    });
    expect(two.device.workers).toHaveLength(2);
    expect(two.device.workers!.map((w) => [w.worker, w.execution_provider, w.device_id])).toEqual([
      [0, 'cpu', null],
      [1, 'cpu', null],
    ]);
    expect(new Set(two.device.workers!.map((w) => w.thread_id)).size).toBe(2);
    expect(JSON.parse(readFileSync(join(dir, 'two', 'run.json'), 'utf8')).device.workers).toEqual(two.device.workers);
    // CUDA sessions name device id 0: the first GPU the process sees.
    expect(CUDA_DEVICE_ID).toBe(0);

    // The one-process-per-GPU layout: each shard process gets its own CUDA_VISIBLE_DEVICES (here on CPU).
    const out = join(dir, 'sharded');
    for (const i of [0, 1]) {
      const r = runCli(
        ['score', input, '--out', out, '--shard', `${i}/2`].concat([
          '--model',
          'stories260k',
          '--device',
          'cpu',
          '--chunk-docs',
          '4',
          '--quiet',
        ]),
        { env: { CUDA_VISIBLE_DEVICES: String(i + 2) } },
      );
      expect(r.status, r.stderr).toBe(0);
      const run = JSON.parse(readFileSync(join(out, `shard-0000${i}-of-00002`, 'run.json'), 'utf8'));
      expect(run.device.cuda_visible_devices).toBe(String(i + 2));
      expect(run.device.workers).toEqual([
        { worker: 0, thread_id: expect.any(Number), execution_provider: 'cpu', device_id: null },
      ]);
    }
    const merged = await mergeShards({ dir: out, out: join(dir, 'merged') });
    expect(merged.device.shards!.map((s) => [s.shard, s.used, s.cuda_visible_devices, s.workers?.length])).toEqual([
      [0, 'cpu', '2', 1],
      [1, 'cpu', '3', 1],
    ]);
  });
});
