/**
 * Where a Helm repository keeps what: charts (`{name}-{version}.tgz`, at the root when
 * deployed through the chart API, anywhere when deployed by path) with their provenance
 * files beside them (`{chart}.tgz.prov`), the generated `index.yaml` at the root, and one
 * fragment per chart name under `.helm/entries/` (see index-yaml.ts). A remote repository
 * caches the upstream's `index.yaml` at the root and its charts at their paths below the
 * upstream's URL.
 */
import { encodePath } from '../../core/paths.js';

export const INDEX_PATH = 'index.yaml';
export const METADATA_FOLDER = '.helm';
export const ENTRIES_FOLDER = `${METADATA_FOLDER}/entries`;

export const INDEX_MIME = 'application/x-yaml';

export function fragmentPath(name: string): string {
  return `${ENTRIES_FOLDER}/${name}.json`;
}

/** True for the index and the fragments, which only the format writes. */
export function isGenerated(path: string): boolean {
  return path === INDEX_PATH || path === METADATA_FOLDER || path.startsWith(`${METADATA_FOLDER}/`);
}

/** True for a path that holds a chart archive. */
export function isChartPath(path: string): boolean {
  return path.endsWith('.tgz') && !isGenerated(path);
}

/** Largest provenance file (a signed Chart.yaml and a digest: a few KiB). */
export const MAX_PROVENANCE_BYTES = 1024 * 1024;

/** True for a path that holds a chart's provenance file. */
export function isProvenancePath(path: string): boolean {
  return path.endsWith('.tgz.prov') && !isGenerated(path);
}

/** The URL of a stored chart in the index: relative to the index, so it works behind any host name and through virtual repositories. */
export function chartUrl(path: string): string {
  return encodePath(path);
}
