/**
 * Where a deployed package is listed: the `deb.distribution`, `deb.component` and
 * `deb.architecture` parameters of the deploy (matrix parameters or properties; each may be a
 * comma list, as the seed product takes them), checked against the package's control file.
 */
import { ArcaError } from '../../core/errors.js';
import { validArchitecture, type ControlData } from './control.js';
import { checkName } from './layout.js';

export interface Targets {
  dists: string[];
  comps: string[];
  /** Architectures the package is listed under (`all` for an architecture-independent one). */
  archs: string[];
}

export const DEFAULT_COMPONENT = 'main';

function values(params: Readonly<Record<string, readonly string[]>>, key: string): string[] {
  const out: string[] = [];
  for (const [k, list] of Object.entries(params)) {
    if (k !== key) continue;
    for (const v of list) for (const part of v.split(',')) if (part.trim() !== '' && !out.includes(part.trim())) out.push(part.trim());
  }
  return out;
}

/** The distributions the deploy names; refused when it names none. */
export function requestedDists(params: Readonly<Record<string, readonly string[]>>): string[] {
  const dists = values(params, 'deb.distribution');
  if (dists.length === 0) {
    throw new ArcaError('BAD_REQUEST', 'A Debian package is deployed with deb.distribution (e.g. PUT …/pool/x.deb;deb.distribution=bookworm;deb.component=main;deb.architecture=amd64)');
  }
  for (const d of dists) checkName('distribution', d);
  return dists;
}

export function targetsOf(params: Readonly<Record<string, readonly string[]>>, control: ControlData): Targets {
  const dists = requestedDists(params);
  const comps = values(params, 'deb.component');
  if (comps.length === 0) comps.push(DEFAULT_COMPONENT);
  for (const c of comps) checkName('component', c);
  const asked = values(params, 'deb.architecture');
  for (const a of asked) if (!validArchitecture(a)) throw new ArcaError('BAD_REQUEST', `'${a}' is not a valid architecture name`);
  const own = control.architecture;
  if (own !== 'all') {
    const other = asked.find((a) => a !== own);
    if (other) throw new ArcaError('BAD_REQUEST', `deb.architecture '${other}' disagrees with the package's control file (Architecture: ${own})`);
    return { dists, comps, archs: [own] };
  }
  // An architecture-independent package is listed under `all` and every architecture named.
  return { dists, comps, archs: ['all', ...asked.filter((a) => a !== 'all')] };
}
