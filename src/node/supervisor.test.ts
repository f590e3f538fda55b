import { describe, expect, it } from 'vitest';
import { workerExecArgv } from './supervisor.js';

describe('worker node options', () => {
  it("adds --initial-old-space-size after the supervisor's own options", () => {
    expect(workerExecArgv(['--enable-source-maps'], 128)).toEqual(['--enable-source-maps', '--initial-old-space-size=128']);
  });

  it("keeps the operator's own initial old space, in either spelling", () => {
    expect(workerExecArgv(['--initial-old-space-size=64'], 128)).toEqual(['--initial-old-space-size=64']);
    expect(workerExecArgv(['--initial_old_space_size=256'], 128)).toEqual(['--initial_old_space_size=256']);
  });

  it('adds nothing for 0 or no value', () => {
    expect(workerExecArgv(['--trace-gc'], 0)).toEqual(['--trace-gc']);
    expect(workerExecArgv([], undefined)).toEqual([]);
  });
});
