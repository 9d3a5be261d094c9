/** Which shard a process takes from --shard, a Slurm array or a Kubernetes Indexed Job. */
import { describe, expect, it } from 'vitest';
import { parseShard, shardFromEnvironment } from '../../src/score/shards/from-env.js';
import { arrayExpression } from '../../src/score/shards/layout.js';

describe('shardFromEnvironment', () => {
  it('parses I/N and refuses nonsense', () => {
    expect(parseShard('3/16')).toEqual({ index: 3, count: 16 });
    expect(() => parseShard('16/16')).toThrow(/0..N-1/);
    expect(() => parseShard('a/b')).toThrow(/`shard` must be I\/N/);
  });

  it('Slurm: task id and array count, MIN/MAX without a count, and the output count for a rerun of some shards', () => {
    expect(shardFromEnvironment({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '4' })).toMatchObject({
      index: 2,
      count: 4,
      source: expect.stringMatching(/SLURM_ARRAY_TASK_COUNT=4/),
    });
    expect(
      shardFromEnvironment({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '7' }),
    ).toMatchObject({ index: 2, count: 8 });
    // `--array=5` reruns shard 5: the array has one task, the output says 16.
    const rerun = {
      SLURM_ARRAY_TASK_ID: '5',
      SLURM_ARRAY_TASK_COUNT: '1',
      SLURM_ARRAY_TASK_MIN: '5',
      SLURM_ARRAY_TASK_MAX: '5',
    };
    expect(shardFromEnvironment(rerun, { knownCount: 16 })).toMatchObject({ index: 5, count: 16 });
    expect(shardFromEnvironment(rerun, { shards: 16 })).toMatchObject({
      index: 5,
      count: 16,
      source: expect.stringMatching(/shards=16/),
    });
    expect(() => shardFromEnvironment(rerun)).toThrow(/arrays are 0-based .* must pass `shards` N/);
  });

  it('Kubernetes: JOB_COMPLETION_INDEX needs `shards`; nothing set means no shard', () => {
    expect(shardFromEnvironment({ JOB_COMPLETION_INDEX: '3' }, { shards: 8 })).toMatchObject({
      index: 3,
      count: 8,
      source: expect.stringMatching(/JOB_COMPLETION_INDEX=3/),
    });
    expect(() => shardFromEnvironment({ JOB_COMPLETION_INDEX: '3' })).toThrow(/pass `shards` N/);
    expect(() => shardFromEnvironment({ JOB_COMPLETION_INDEX: '8' }, { shards: 8 })).toThrow(/not a shard of 8/);
    expect(shardFromEnvironment({})).toBeUndefined();
    expect(() => shardFromEnvironment({}, { shards: 4 })).toThrow(/pass `shard` I\/N instead/);
  });

  it('writes Slurm --array lists', () => {
    expect(arrayExpression([7, 0, 1, 2, 3, 9, 10])).toBe('0-3,7,9-10');
    expect(arrayExpression([])).toBe('');
  });
});
