import { createHash } from 'node:crypto';

/**
 * The queue key of a push target (`replication_events.target`, at most 200 characters): the
 * repository and a digest of the target URL, so a target keeps its events when other targets
 * of the repository are added, removed or reordered, and a changed URL starts a new queue.
 */
export function targetKey(repoKey: string, url: string): string {
  return `${repoKey}|${createHash('sha1').update(url).digest('hex').slice(0, 20)}`;
}

/** The repository of a target key. */
export function repoOfTargetKey(key: string): string {
  const bar = key.lastIndexOf('|');
  return bar < 0 ? key : key.slice(0, bar);
}
