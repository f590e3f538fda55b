/**
 * Changes to a package document, as pure functions: publish, dist-tags, deprecation and
 * unpublish (through the packument PUTs `npm deprecate` and `npm unpublish pkg@ver` send).
 * Each returns a new document with `time.modified` and `_rev` moved on; the input is untouched.
 */
import { ArcaError } from '../../core/errors.js';
import { highestVersion, distTagProblem } from './semver.js';
import { nextRevision, own, personOf, type PackageDocument, type Person, type VersionManifest } from './packument.js';
import type { PublishRequest } from './publish.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function bad(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', message);
}

function clone(doc: PackageDocument): PackageDocument {
  return structuredClone(doc);
}

function finish(doc: PackageDocument, now: string): PackageDocument {
  doc.time.modified = now;
  doc._rev = nextRevision(doc);
  return doc;
}

/** Keeps `latest` on an existing version: the highest remaining one when its version went away. */
function repairLatest(doc: PackageDocument): void {
  for (const [tag, v] of Object.entries(doc['dist-tags'])) if (!own(doc.versions, v)) delete doc['dist-tags'][tag];
  if (!doc['dist-tags'].latest) {
    const top = highestVersion(Object.keys(doc.versions));
    if (top) doc['dist-tags'].latest = top;
  }
}

/**
 * Adds a published version; FORBIDDEN when the version exists (npm never overwrites one).
 * The publisher becomes `_npmUser` of the version and joins `maintainers`, with their e-mail
 * as the npm registry records both (see `personOf`).
 */
export function applyPublish(doc: PackageDocument | undefined, pub: PublishRequest, publisher: Person, now: string): PackageDocument {
  if (doc?.versions[pub.version]) {
    throw new ArcaError('FORBIDDEN', `You cannot publish over the previously published version ${pub.version} of ${pub.name}`);
  }
  const next: PackageDocument = doc
    ? clone(doc)
    : { _id: pub.name, _rev: '0-new', name: pub.name, 'dist-tags': {}, versions: {}, time: { created: now }, maintainers: [] };
  const person = personOf(publisher);
  const manifest: VersionManifest = { ...pub.manifest, _npmUser: person };
  next.versions[pub.version] = manifest;
  next.time[pub.version] = now;
  for (const [tag, v] of Object.entries(pub.distTags)) next['dist-tags'][tag] = v;
  if (!next['dist-tags'].latest) next['dist-tags'].latest = pub.version;
  const maintainers = (next.maintainers ??= []);
  const known = maintainers.find((m) => m.name === person.name);
  if (!known) maintainers.push(person);
  else if (!known.email) known.email = person.email;
  if (typeof manifest.description === 'string' && next['dist-tags'].latest === pub.version) next.description = manifest.description;
  return finish(next, now);
}

export function setDistTag(doc: PackageDocument, tag: string, version: unknown, now: string): PackageDocument {
  const problem = distTagProblem(tag);
  if (problem) throw bad(`Invalid dist-tag: ${problem}`);
  if (typeof version !== 'string') throw bad('The body of a dist-tag PUT is the version as a JSON string, e.g. "1.2.3"');
  if (!own(doc.versions, version)) throw bad(`Version ${version} of ${doc.name} does not exist`);
  const next = clone(doc);
  next['dist-tags'][tag] = version;
  return finish(next, now);
}

export function removeDistTag(doc: PackageDocument, tag: string, now: string): PackageDocument {
  if (tag === 'latest') throw bad(`The 'latest' dist-tag of ${doc.name} cannot be removed; point it at another version instead`);
  if (own(doc['dist-tags'], tag) === undefined) throw new ArcaError('NOT_FOUND', `${doc.name} has no dist-tag '${tag}'`);
  const next = clone(doc);
  delete next['dist-tags'][tag];
  return finish(next, now);
}

/** Several tags at once (`POST /-/package/{name}/dist-tags` with `{tag: version}`). */
export function mergeDistTags(doc: PackageDocument, tags: unknown, now: string): PackageDocument {
  if (!isObject(tags)) throw bad('The body must be a JSON object of dist-tag to version');
  let next = doc;
  for (const [tag, v] of Object.entries(tags)) next = setDistTag(next, tag, v, now);
  return next;
}

export interface DocumentUpdate {
  doc: PackageDocument;
  /** Versions the update removed (their tarballs go too). */
  removed: string[];
}

function checkRevision(doc: PackageDocument, rev: string): void {
  if (rev !== doc._rev) {
    throw new ArcaError('CONFLICT', `Document update conflict: revision '${rev}' of ${doc.name} is not the current one ('${doc._rev}'); fetch the package again`);
  }
}

/**
 * A packument PUT without attachments. Only deprecation messages change: `npm deprecate`
 * sends back the whole document with `deprecated` set ('' to undeprecate) on some versions.
 * With `rev` (PUT `/{name}/-rev/{rev}`, as `npm unpublish pkg@ver` sends), versions left out
 * of the body are removed and the body's dist-tags replace the stored ones.
 */
export function applyPackumentUpdate(doc: PackageDocument, body: unknown, now: string, rev?: string): DocumentUpdate {
  if (!isObject(body)) throw bad('The body must be a JSON object');
  if (body.name !== undefined && body.name !== doc.name) throw bad(`The package name in the body ('${String(body.name)}') does not match the URL ('${doc.name}')`);
  if (!isObject(body.versions)) throw bad("The body has no 'versions' object");
  if (rev !== undefined) checkRevision(doc, rev);
  const next = clone(doc);
  for (const [v, m] of Object.entries(body.versions)) {
    if (!own(next.versions, v)) throw bad(`Version ${v} of ${doc.name} does not exist; a new version is published with its tarball`);
    if (!isObject(m)) throw bad(`Version ${v} is not an object`);
    const dep = m.deprecated;
    if (dep !== undefined && typeof dep !== 'string') throw bad(`'deprecated' of version ${v} must be a string`);
    if (dep) next.versions[v].deprecated = dep;
    else delete next.versions[v].deprecated;
  }
  const removed: string[] = [];
  if (rev !== undefined) {
    for (const v of Object.keys(next.versions)) {
      if (!(v in body.versions)) {
        delete next.versions[v];
        delete next.time[v];
        removed.push(v);
      }
    }
    if (body['dist-tags'] !== undefined) {
      if (!isObject(body['dist-tags'])) throw bad("'dist-tags' must be an object");
      next['dist-tags'] = {};
      for (const [tag, v] of Object.entries(body['dist-tags'])) {
        if (typeof v !== 'string' || !own(next.versions, v)) continue;
        const problem = distTagProblem(tag);
        if (problem) throw bad(`Invalid dist-tag: ${problem}`);
        next['dist-tags'][tag] = v;
      }
    }
    repairLatest(next);
  }
  return { doc: finish(next, now), removed };
}

/** Removes versions (a tarball DELETE); the caller deletes the whole package when none are left. */
export function removeVersions(doc: PackageDocument, versions: string[], now: string): PackageDocument {
  const next = clone(doc);
  for (const v of versions) {
    delete next.versions[v];
    delete next.time[v];
  }
  repairLatest(next);
  return finish(next, now);
}

/** The revision check of a whole-package unpublish (`DELETE /{name}/-rev/{rev}`). */
export function checkDeleteRevision(doc: PackageDocument, rev: string): void {
  checkRevision(doc, rev);
}
