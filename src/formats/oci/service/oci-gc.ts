/**
 * Online garbage collection of local docker/oci repositories, run by the cluster `gc` task
 * before the content store's own collection (which then frees the binaries of what this
 * step removed). The registry keeps serving pulls and pushes meanwhile.
 *
 * What is kept, per image (decided from the item tree, see ../layout.ts):
 * - every manifest a tag points to;
 * - every manifest an index that is kept lists (multi-platform images, to any depth);
 * - every referrer (a manifest whose `subject` is a kept manifest: signatures, SBOMs,
 *   attestations), and what it lists in turn; a referrer whose subject is collected goes too;
 * - every manifest pushed or re-pushed within the grace window (`arca.gc.graceSecs`): a
 *   client pushes the platform manifests of an index by digest before the index, and
 *   a referrer may arrive before its subject;
 * - every blob a kept manifest lists (config, layers), and every blob linked to the image
 *   within the grace window (uploaded, not yet referenced by a manifest);
 * - every upload session with a chunk received within the grace window.
 * Everything else of the image goes: manifests by digest with their layer items and
 * referrer links, blob links (`_uploads/sha256__…`), stale upload sessions.
 *
 * Running beside pushes: each image's removals happen in one transaction that first locks
 * the binaries of what it removes (the rows every push of the same content locks too) and
 * then re-checks: a manifest re-pushed since the scan (by digest or under a tag: both write
 * its digest folder) stays; when an index written since the scan began (less a margin for
 * the clocks of other nodes) lists a manifest about to go, the image is left for the next
 * run. An index pushed at the same time locks its child manifests' binaries and checks them
 * again under the lock (see manifests.ts), so it never lists a manifest removed here. A
 * manifest pushed meanwhile that lists a blob whose link goes here keeps its own layer
 * items, so it stays whole.
 */
import type { ContentStore } from '../../../content/content-store.js';
import type { Clock } from '../../../core/clock.js';
import { nameOf, parentOf } from '../../../core/paths.js';
import { lockBinary } from '../../../db/binaries.js';
import type { Database } from '../../../db/database.js';
import { deleteTree, getItem, type Db, type ItemRow } from '../../../db/items.js';
import { blobFileName, isDigestFolderName, isTagFolderName, isUploadId, MANIFEST_FILES, REFERRERS_FOLDER, UPLOADS_FOLDER } from '../layout.js';
import { parseManifest, requiredBlobs, type ParsedManifest } from '../manifest.js';
import { binaryOf, type BinaryRef } from './oci-store.js';
import { recordDeletes } from '../../../services/replication/change-capture.js';

export interface OciGcDeps {
  database: Database;
  content: ContentStore;
  clock: Clock;
}

export interface OciGcCounts {
  ociImagesScanned: number;
  ociManifestsRemoved: number;
  ociBlobLinksRemoved: number;
  ociUploadsRemoved: number;
  /** Images left for the next run because a push changed them while this one ran. */
  ociImagesDeferred: number;
}

/** Pushes whose clock was up to this much behind the collecting node still defer their image. */
export const CLOCK_MARGIN_MS = 30_000;

const LINK_NAME = /^(sha256|sha512)__[a-f0-9]+$/;

/** What the scan found of one image. */
export interface ImageScan {
  repo: string;
  image: string;
  /** The manifest files of tag folders. */
  tags: ItemRow[];
  /** Manifest files of digest folders, by digest (`sha256:…`). */
  digests: Map<string, ItemRow>;
  /** Blob links (`_uploads/sha256__…`). */
  links: ItemRow[];
  /** Upload sessions: folder path and last activity (folder creation or latest chunk). */
  uploads: Map<string, number>;
  /** Referrer links (`_referrers/{subject}/{digest}`), with the two digests. */
  referrers: { row: ItemRow; subject: string; referrer: string }[];
}

/** What a run removes from one image. */
export interface ImagePlan {
  manifests: ItemRow[];
  links: ItemRow[];
  uploads: string[];
  referrerLinks: ItemRow[];
}

class Deferred extends Error {}

function imageScan(scans: Map<string, ImageScan>, repo: string, image: string): ImageScan {
  let s = scans.get(image);
  if (!s) scans.set(image, (s = { repo, image, tags: [], digests: new Map(), links: [], uploads: new Map(), referrers: [] }));
  return s;
}

/** Reads the registry items of a repository, grouped by image. */
export async function scanRepository(db: Db, repo: string): Promise<Map<string, ImageScan>> {
  const scans = new Map<string, ImageScan>();
  const manifests = await db.selectFrom('items').selectAll().where('repo', '=', repo).where('type', '=', 'file').where('name', 'in', [...MANIFEST_FILES]).execute();
  for (const row of manifests) {
    const image = parentOf(row.path);
    const folder = nameOf(row.path);
    if (image === '') continue;
    if (isDigestFolderName(folder)) imageScan(scans, repo, image).digests.set(folder, row);
    else if (isTagFolderName(folder)) imageScan(scans, repo, image).tags.push(row);
  }
  // `_` is a LIKE wildcard: the patterns match a superset, filtered exactly below.
  const below = await db
    .selectFrom('items')
    .selectAll()
    .where('repo', '=', repo)
    .where((eb) => eb.or([eb('path', 'like', `%${UPLOADS_FOLDER}`), eb('path', 'like', `%${UPLOADS_FOLDER}/%`), eb('path', 'like', `%${REFERRERS_FOLDER}/%`)]))
    .execute();
  for (const row of below) {
    if (nameOf(row.path) === UPLOADS_FOLDER) {
      const image = parentOf(row.path);
      if (row.type === 'file' && LINK_NAME.test(row.name)) imageScan(scans, repo, image).links.push(row);
      else if (row.type === 'folder' && isUploadId(row.name)) {
        const s = imageScan(scans, repo, image);
        const path = `${row.path}/${row.name}`;
        s.uploads.set(path, Math.max(s.uploads.get(path) ?? 0, row.updated));
      }
    } else if (nameOf(parentOf(row.path)) === UPLOADS_FOLDER && isUploadId(nameOf(row.path))) {
      const s = imageScan(scans, repo, parentOf(parentOf(row.path)));
      s.uploads.set(row.path, Math.max(s.uploads.get(row.path) ?? 0, row.updated));
    } else if (row.type === 'file' && nameOf(parentOf(row.path)) === REFERRERS_FOLDER && isDigestFolderName(row.name)) {
      const image = parentOf(parentOf(row.path));
      imageScan(scans, repo, image).referrers.push({ row, subject: nameOf(row.path), referrer: row.name });
    }
  }
  return scans;
}

/**
 * Decides what to remove from an image (see the rules above); `cutoff` is the oldest update
 * time still inside the grace window, `parse` reads a stored manifest (undefined when it
 * cannot be read: nothing it might reference is then removed).
 */
export async function planImage(scan: ImageScan, cutoff: number, parse: (row: ItemRow) => Promise<ParsedManifest | undefined>): Promise<ImagePlan> {
  const kept = new Set<string>();
  const queue: ItemRow[] = [];
  const bySha256 = new Map<string, string[]>();
  for (const [d, row] of scan.digests) bySha256.set(row.sha256 ?? '', [...(bySha256.get(row.sha256 ?? '') ?? []), d]);
  const referrersOf = new Map<string, string[]>();
  for (const r of scan.referrers) referrersOf.set(r.subject, [...(referrersOf.get(r.subject) ?? []), r.referrer]);
  const keep = (d: string) => {
    const row = scan.digests.get(d);
    if (!row || kept.has(d)) return;
    kept.add(d);
    queue.push(row);
  };
  for (const tag of scan.tags) {
    const same = bySha256.get(tag.sha256 ?? '');
    if (same) same.forEach(keep);
    else queue.push(tag); // a tag without its digest folder: follow what it lists all the same
  }
  for (const [d, row] of scan.digests) if (row.updated >= cutoff) keep(d);
  const blobs = new Set<string>();
  let unreadable = false;
  for (let row = queue.shift(); row; row = queue.shift()) {
    const m = await parse(row);
    if (!m) {
      unreadable = true;
      continue;
    }
    for (const child of m.manifests) keep(child.digest.text);
    for (const b of requiredBlobs(m)) blobs.add(blobFileName(b.digest));
    const digests = isDigestFolderName(nameOf(row.path)) ? [nameOf(row.path)] : bySha256.get(row.sha256 ?? '') ?? [`sha256:${row.sha256}`];
    for (const d of digests) for (const r of referrersOf.get(d) ?? []) keep(r);
  }
  const manifests = [...scan.digests].filter(([d]) => !kept.has(d)).map(([, row]) => row);
  const gone = new Set(manifests.map((r) => nameOf(r.path)));
  return {
    manifests,
    links: unreadable ? [] : scan.links.filter((l) => l.updated < cutoff && !blobs.has(l.name)),
    uploads: [...scan.uploads].filter(([, last]) => last < cutoff).map(([path]) => path),
    referrerLinks: scan.referrers.filter((r) => gone.has(r.referrer)).map((r) => r.row),
  };
}

/** Collects the garbage of every local docker/oci repository (see the file comment). */
export async function collectOciGarbage(deps: OciGcDeps, graceMs: number, signal?: AbortSignal): Promise<OciGcCounts> {
  const counts: OciGcCounts = { ociImagesScanned: 0, ociManifestsRemoved: 0, ociBlobLinksRemoved: 0, ociUploadsRemoved: 0, ociImagesDeferred: 0 };
  const db = deps.database.db;
  const repos = await db.selectFrom('repositories').select('repo_key').where('rclass', '=', 'local').where('package_type', 'in', ['docker', 'oci']).execute();
  for (const { repo_key: repo } of repos) {
    const scanStart = deps.clock.now();
    const cutoff = scanStart - graceMs;
    const parse = async (row: ItemRow) => {
      try {
        const bytes = await deps.content.readSmall(row.sha1!);
        return parseManifest(bytes, row.mime_type ?? undefined);
      } catch {
        return undefined;
      }
    };
    for (const scan of (await scanRepository(db, repo)).values()) {
      signal?.throwIfAborted();
      counts.ociImagesScanned++;
      const plan = await planImage(scan, cutoff, parse);
      if (plan.manifests.length + plan.links.length + plan.uploads.length === 0) continue;
      try {
        const removed = await removePlan(deps, scan, plan, { since: scanStart - CLOCK_MARGIN_MS, cutoff }, parse);
        counts.ociManifestsRemoved += removed.manifests;
        counts.ociBlobLinksRemoved += removed.links;
        counts.ociUploadsRemoved += removed.uploads;
      } catch (err) {
        if (!(err instanceof Deferred)) throw err;
        counts.ociImagesDeferred++;
      }
    }
  }
  return counts;
}

/** Manifests of the image written at or after `since` (pushes during the run). */
async function writtenSince(trx: Db, repo: string, image: string, since: number): Promise<ItemRow[]> {
  const folders = await trx.selectFrom('items').select('name').where('repo', '=', repo).where('path', '=', image).where('type', '=', 'folder').execute();
  const paths = folders.map((f) => `${image}/${f.name}`);
  const out: ItemRow[] = [];
  for (let i = 0; i < paths.length; i += 500) {
    out.push(
      ...(await trx
        .selectFrom('items')
        .selectAll()
        .where('repo', '=', repo)
        .where('path', 'in', paths.slice(i, i + 500))
        .where('name', 'in', [...MANIFEST_FILES])
        .where('updated', '>=', since)
        .execute()),
    );
  }
  return out;
}

/** Removes what the plan names, unless the image changed since `since`; sessions active since `cutoff` stay. */
async function removePlan(
  deps: OciGcDeps,
  scan: ImageScan,
  plan: ImagePlan,
  at: { since: number; cutoff: number },
  parse: (row: ItemRow) => Promise<ParsedManifest | undefined>,
): Promise<{ manifests: number; links: number; uploads: number }> {
  const { repo, image } = scan;
  const binaries = new Map<string, BinaryRef>();
  for (const row of [...plan.manifests, ...plan.links]) binaries.set(row.sha1!, binaryOf(row));
  return deps.database.db.transaction().execute(async (trx) => {
    // Sorted, so two collectors (or a collector and a push) take the row locks in one order.
    for (const sha1 of [...binaries.keys()].sort()) await lockBinary(trx, binaries.get(sha1)!, deps.clock.now());
    // An index pushed since the scan that lists a manifest about to go: leave the image for the next run.
    const doomed = new Set(plan.manifests.map((r) => nameOf(r.path)));
    for (const row of await writtenSince(trx, repo, image, at.since)) {
      const m = await parse(row);
      if (!m || m.manifests.some((c) => doomed.has(c.digest.text))) throw new Deferred();
    }
    const out = { manifests: 0, links: 0, uploads: 0 };
    for (const row of plan.manifests) {
      const current = await getItem(trx, repo, `${row.path}/${row.name}`);
      if (!current || current.updated !== row.updated) continue;
      await deleteTree(trx, repo, row.path);
      await recordDeletes(deps.database, repo, [row.path], null, trx);
      out.manifests++;
    }
    for (const row of plan.referrerLinks) {
      if ((await deleteTree(trx, repo, `${row.path}/${row.name}`)).length > 0) await recordDeletes(deps.database, repo, [`${row.path}/${row.name}`], null, trx);
    }
    for (const row of plan.links) {
      const current = await getItem(trx, repo, `${row.path}/${row.name}`);
      if (!current || current.updated !== row.updated) continue;
      await deleteTree(trx, repo, `${row.path}/${row.name}`);
      await recordDeletes(deps.database, repo, [`${row.path}/${row.name}`], null, trx);
      out.links++;
    }
    for (const path of plan.uploads) {
      const parts = await trx.selectFrom('items').select('updated').where('repo', '=', repo).where('path', '=', path).execute();
      if (parts.some((p) => p.updated >= at.cutoff)) continue;
      if ((await deleteTree(trx, repo, path)).length > 0) out.uploads++;
    }
    return out;
  });
}
