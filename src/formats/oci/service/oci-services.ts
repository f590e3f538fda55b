import type { PackageServices } from '../../../services/remote/package-services.js';
import { createOciRegistry, type OciDeps, type OciRegistry } from './oci-registry.js';
import { RegistryReads, type RepoLister } from './registry-reads.js';
import { RegistryWrites, type RepoGetter } from './registry-writes.js';
import { OciRemote } from './remote-registry.js';
import { OciVirtual } from './virtual-registry.js';

/**
 * The registry services of one node: the stores of local repositories (`reg`), the remote and
 * virtual ones built on them, and the use cases the registry routes call (`reads`, `writes`),
 * which decide with the caller's access.
 */
export interface OciServices {
  reg: OciRegistry;
  remote: OciRemote;
  virtual: OciVirtual;
  reads: RegistryReads;
  writes: RegistryWrites;
}

export interface OciServiceDeps extends OciDeps {
  packages: PackageServices;
  repos: RepoLister & RepoGetter;
}

/** Built once per node by the composition root, so upstream fetches and tokens are shared by every request. */
export function createOciServices(deps: OciServiceDeps): OciServices {
  const reg = createOciRegistry(deps);
  const { packages, repos } = deps;
  const remote = new OciRemote({ reg, clock: deps.clock, settings: (r) => packages.remote.settings(r) });
  const virtual = new OciVirtual(reg, remote, packages.virtual);
  return { reg, remote, virtual, reads: new RegistryReads({ reg, remote, virtual, repos }), writes: new RegistryWrites(reg, repos) };
}
