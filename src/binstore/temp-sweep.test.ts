import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostTag, parseTempName, tempName, tempOwner, type TempOwner } from './temp-files.js';
import { sweepTempDirs, verdict, type SweepView } from './temp-sweep.js';

const HOUR = 3_600_000;
const me: TempOwner = { node: 'art.1', host: hostTag('here'), instance: 'aaaa', pid: 100 };
const name = (o: Partial<TempOwner>) => {
  const x = { ...me, ...o };
  return `upload-${encodeURIComponent(x.node).replace(/\./g, '%2E')}.${x.host}.${x.instance}.${x.pid}.0b8f1c1e-1111-4222-8333-944445555666.tmp`;
};
const view = (over: Partial<SweepView> = {}): SweepView => ({
  self: me,
  nodes: new Map([
    ['art.1', { instance: 'aaaa', state: 'RUNNING' }],
    ['art2', { instance: 'bbbb', state: 'RUNNING' }],
    ['art3', { instance: 'cccc', state: 'STOPPED' }],
    ['art4', { instance: 'dddd', state: 'STOPPING' }],
  ]),
  processAlive: (pid) => pid === 100 || pid === 200,
  now: 10 * 24 * HOUR,
  staleMs: 24 * HOUR,
  ...over,
});
const fresh = 10 * 24 * HOUR - 1000;
const old = 0;

describe('temp file names', () => {
  it('record the owner, whatever the node id holds', () => {
    for (const id of ['art1', 'art.1', 'a_b-c', 'hôte/x y']) {
      const n = `upload-${encodeURIComponent(id).replace(/\./g, '%2E')}.${me.host}.i.7.u.tmp`;
      expect(parseTempName(n)?.owner).toEqual({ node: id, host: me.host, instance: 'i', pid: 7 });
    }
    expect(parseTempName(tempName('fill-'))?.owner).toEqual(tempOwner());
    expect(parseTempName('upload-0b8f1c1e-1111-4222-8333-944445555666.tmp')).toBeUndefined();
  });
});

describe('what a sweep may remove', () => {
  it("never a live process's file on this host, nor this process's own", () => {
    expect(verdict(name({}), old, view())).toBeUndefined();
    expect(verdict(name({ pid: 200, instance: 'zzzz' }), fresh, view())).toBeUndefined();
  });
  it('a file of a process gone from this host, or of an earlier start with this pid', () => {
    expect(verdict(name({ pid: 300 }), fresh, view())).toBe('process-gone');
    expect(verdict(name({ node: 'other', pid: 301 }), fresh, view())).toBe('process-gone');
    expect(verdict(name({ instance: 'older' }), fresh, view())).toBe('process-gone');
  });
  it("another host's file: kept while its node's start runs, removed when that start is over", () => {
    const there = { host: hostTag('there'), pid: 300 };
    expect(verdict(name({ ...there, node: 'art2', instance: 'bbbb' }), fresh, view())).toBeUndefined();
    expect(verdict(name({ ...there, node: 'art4', instance: 'dddd' }), fresh, view())).toBeUndefined();
    expect(verdict(name({ ...there, node: 'art2', instance: 'older' }), fresh, view())).toBe('node-not-running');
    expect(verdict(name({ ...there, node: 'art3', instance: 'cccc' }), fresh, view())).toBe('node-not-running');
    expect(verdict(name({ ...there, node: 'gone', instance: 'eeee' }), fresh, view())).toBe('node-not-running');
    // Without the registry nothing is judged by its node.
    expect(verdict(name({ ...there, node: 'gone' }), fresh, view({ nodes: undefined }))).toBeUndefined();
    expect(verdict(name({ ...there, node: 'art2', instance: 'bbbb' }), old, view())).toBe('stale');
  });
  it('legacy names only when untouched beyond the bound, or where no older version can write', () => {
    expect(verdict('upload-0b8f1c1e-1111-4222-8333-944445555666.tmp', fresh, view())).toBeUndefined();
    expect(verdict('upload-0b8f1c1e-1111-4222-8333-944445555666.tmp', fresh, view({ legacyDead: true }))).toBe('legacy');
    expect(verdict('upload-0b8f1c1e-1111-4222-8333-944445555666.tmp', old, view())).toBe('stale');
  });
});

describe('sweepTempDirs', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  it('removes the dead files, counts them by reason, and leaves other names alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arca-sweep-'));
    dirs.push(dir);
    writeFileSync(join(dir, name({ pid: 300 })), 'x'.repeat(10));
    writeFileSync(join(dir, name({})), 'live');
    writeFileSync(join(dir, 'upload-legacy.tmp'), 'abc');
    utimesSync(join(dir, 'upload-legacy.tmp'), 1, 1);
    writeFileSync(join(dir, 'notes.txt'), 'keep');
    utimesSync(join(dir, 'notes.txt'), 1, 1);
    const r = await sweepTempDirs([dir], view({ now: Date.now() }));
    expect(r).toEqual({ files: 2, bytes: 13, byReason: { 'process-gone': { files: 1, bytes: 10 }, stale: { files: 1, bytes: 3 } } });
    expect(readdirSync(dir).sort()).toEqual([name({}), 'notes.txt'].sort());
  });
});
