import { isArcaError } from '../../../core/errors.js';
import type { Access } from '../../../security/access.js';
import type { Action } from '../../../security/types.js';
import type { RepoConfig } from '../../../services/repositories.js';
import { OciError } from '../oci-errors.js';

/** Package types the registry API serves. */
export const REGISTRY_TYPES: readonly string[] = ['docker', 'oci'];

/** An image of a repository, as a registry request addresses it. */
export interface ImageRef {
  repo: RepoConfig;
  image: string;
  /** The name as the client wrote it after `/v2/` (`{repo}/{image}` at the root, `{image}` under a prefix); errors quote it. */
  name: string;
}

/**
 * Throws the registry's refusal unless the caller may do `action` at `path` of the image's
 * repository. Who is refused how is the caller's `Access` (UNAUTHORIZED with the challenges
 * for an anonymous caller, "not known" when unauthorised resources are hidden, DENIED
 * otherwise); the registry only words it in its own codes.
 */
export async function requireImage(access: Access, ref: ImageRef, action: Action, path: string): Promise<void> {
  if (await access.can(action, ref.repo, path)) return;
  const what = `${action} '${ref.repo.key}/${ref.image}'`;
  try {
    await access.refuse(what);
  } catch (err) {
    if (isArcaError(err, 'UNAUTHORIZED')) throw new OciError('UNAUTHORIZED', `Authentication is required to ${what}`);
    if (isArcaError(err, 'NOT_FOUND')) throw new OciError('NAME_UNKNOWN', `Repository name '${ref.name}' not known to the registry`, { detail: { name: ref.name } });
    if (isArcaError(err, 'FORBIDDEN')) throw new OciError('DENIED', `User '${access.user}' may not ${what}`);
    throw err;
  }
}
