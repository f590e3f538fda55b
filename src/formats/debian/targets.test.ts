import { describe, expect, it } from 'vitest';
import { parseControl } from './control.js';
import { targetsOf } from './targets.js';

const control = (arch: string) => parseControl(`Package: pk\nVersion: 1\nArchitecture: ${arch}\nMaintainer: m\nDescription: d\n`);

describe('deb.* deploy parameters', () => {
  it('takes comma lists, defaults the component and the architecture', () => {
    expect(targetsOf({ 'deb.distribution': ['bookworm,trixie'], 'deb.component': ['main', 'contrib'] }, control('amd64'))).toEqual({ dists: ['bookworm', 'trixie'], comps: ['main', 'contrib'], archs: ['amd64'] });
    expect(targetsOf({ 'deb.distribution': ['bookworm'] }, control('arm64'))).toEqual({ dists: ['bookworm'], comps: ['main'], archs: ['arm64'] });
    expect(targetsOf({ 'deb.distribution': ['bookworm'], 'deb.architecture': ['amd64,arm64'] }, control('all'))).toEqual({ dists: ['bookworm'], comps: ['main'], archs: ['all', 'amd64', 'arm64'] });
  });

  it('refuses a deploy without a distribution, with bad names, or an architecture the control file disagrees with', () => {
    expect(() => targetsOf({}, control('amd64'))).toThrow(/deb\.distribution/);
    expect(() => targetsOf({ 'deb.distribution': ['bad/name'] }, control('amd64'))).toThrow(/distribution/);
    expect(() => targetsOf({ 'deb.distribution': ['x'], 'deb.component': ['..'] }, control('amd64'))).toThrow(/component/);
    expect(() => targetsOf({ 'deb.distribution': ['x'], 'deb.architecture': ['i386'] }, control('amd64'))).toThrow(/disagrees/);
    expect(() => targetsOf({ 'deb.distribution': ['x'], 'deb.architecture': ['Amd 64'] }, control('all'))).toThrow(/architecture/);
  });
});
