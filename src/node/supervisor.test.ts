import { describe, expect, it } from 'vitest';
import { WORKER_MALLOC_ENV, workerExecArgv, workerMallocEnv } from './supervisor.js';

const DEFAULTS = ['--max-semi-space-size=2', '--expose-gc'];

describe('worker node options', () => {
  it("adds --initial-old-space-size, a small young generation and --expose-gc after the supervisor's own options", () => {
    expect(workerExecArgv(['--enable-source-maps'], 128)).toEqual(['--enable-source-maps', '--initial-old-space-size=128', ...DEFAULTS]);
  });

  it("keeps the operator's own initial old space, in either spelling", () => {
    expect(workerExecArgv(['--initial-old-space-size=64'], 128)).toEqual(['--initial-old-space-size=64', ...DEFAULTS]);
    expect(workerExecArgv(['--initial_old_space_size=256'], 128)).toEqual(['--initial_old_space_size=256', ...DEFAULTS]);
  });

  it("keeps the operator's own semi-space size and does not repeat --expose-gc", () => {
    expect(workerExecArgv(['--max_semi_space_size=16', '--expose-gc'], 0)).toEqual(['--max_semi_space_size=16', '--expose-gc']);
    expect(workerExecArgv(['--max-semi-space-size=8'], 0)).toEqual(['--max-semi-space-size=8', '--expose-gc']);
  });

  it('adds no heap size for 0 or no value', () => {
    expect(workerExecArgv(['--trace-gc'], 0)).toEqual(['--trace-gc', ...DEFAULTS]);
    expect(workerExecArgv([], undefined)).toEqual(DEFAULTS);
  });
});

describe('worker malloc settings', () => {
  it('gives a worker two arenas and fixed trim and mmap thresholds', () => {
    expect(workerMallocEnv({})).toEqual({ MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '1048576', MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(workerMallocEnv({ PATH: '/usr/bin' })).toEqual(WORKER_MALLOC_ENV);
  });

  it("leaves out what the supervisor's environment sets (an empty value counts as unset)", () => {
    expect(workerMallocEnv({ MALLOC_ARENA_MAX: '8', MALLOC_TRIM_THRESHOLD_: '' })).toEqual({ MALLOC_TRIM_THRESHOLD_: '1048576', MALLOC_MMAP_THRESHOLD_: '131072' });
  });
});
