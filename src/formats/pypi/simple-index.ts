/**
 * The simple repository API pages: PEP 503 HTML and PEP 691 JSON, api-version 1.1
 * (PEP 700: `versions`, file `size` and `upload-time`). Files carry `#sha256=` hashes,
 * `data-requires-python` (HTML-escaped) and, where a file's core metadata is served at
 * `{url}.metadata` (PEP 658), the names PEP 714 prescribes: `data-core-metadata` in HTML and
 * `core-metadata` in JSON. The legacy `dist-info-metadata` names are never sent: pip 22.3 to
 * 23.1 (Debian 12's pip 23.0.1 among them) crash on any `dist-info-metadata` JSON key, and the
 * PEP recommends the new names alone in HTML too. A file without served metadata carries no
 * metadata key at all (PEP 691: the key is optional).
 */

export const API_VERSION = '1.1';

export interface IndexFile {
  filename: string;
  /** Relative to the project page, or absolute; without the hash fragment. */
  url: string;
  /** Known for stored files; a proxied index may not give one. */
  sha256?: string;
  size?: number;
  /** Upload time, epoch milliseconds. */
  uploaded?: number;
  requiresPython?: string;
  /** SHA-256 of the file's core metadata served at `{url}.metadata`; true when offered without a hash. */
  metadataSha256?: string | true;
  /** PEP 592: true, or the reason. */
  yanked?: string | true;
}

export interface ProjectPage {
  /** The project name (normalised). */
  name: string;
  files: IndexFile[];
  versions: string[];
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** PEP 658/714 value of a file's metadata: its hashes, true when offered without one, undefined when not served. */
function coreMetadataOf(f: IndexFile): { sha256: string } | true | undefined {
  if (f.metadataSha256 === true) return true;
  return f.metadataSha256 ? { sha256: f.metadataSha256 } : undefined;
}

const head = (title: string) =>
  `<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" content="${API_VERSION}">\n    <title>${escapeHtml(title)}</title>\n  </head>\n  <body>\n`;
const TAIL = '  </body>\n</html>\n';

/** The root page: one link per project, to `{name}/`. */
export function rootHtml(projects: string[]): string {
  const links = projects.map((p) => `    <a href="${escapeHtml(encodeURIComponent(p))}/">${escapeHtml(p)}</a><br/>\n`).join('');
  return `${head('Simple index')}${links}${TAIL}`;
}

export function rootJson(projects: string[]): string {
  return JSON.stringify({ meta: { 'api-version': API_VERSION }, projects: projects.map((name) => ({ name })) });
}

export function projectHtml(page: ProjectPage): string {
  const links = page.files
    .map((f) => {
      let attrs = `href="${escapeHtml(f.sha256 ? `${f.url}#sha256=${f.sha256}` : f.url)}"`;
      if (f.requiresPython) attrs += ` data-requires-python="${escapeHtml(f.requiresPython)}"`;
      const metadata = coreMetadataOf(f);
      if (metadata) attrs += ` data-core-metadata="${metadata === true ? 'true' : `sha256=${escapeHtml(metadata.sha256)}`}"`;
      if (f.yanked) attrs += ` data-yanked="${f.yanked === true ? '' : escapeHtml(f.yanked)}"`;
      return `    <a ${attrs}>${escapeHtml(f.filename)}</a><br/>\n`;
    })
    .join('');
  return `${head(`Links for ${page.name}`)}    <h1>Links for ${escapeHtml(page.name)}</h1>\n${links}${TAIL}`;
}

/** api-version 1.1 needs every file's size; a proxied page without sizes is served as 1.0. */
export function projectJson(page: ProjectPage): string {
  const sized = page.files.every((f) => f.size !== undefined);
  return JSON.stringify({
    meta: { 'api-version': sized ? API_VERSION : '1.0' },
    name: page.name,
    ...(sized ? { versions: page.versions } : {}),
    files: page.files.map((f) => {
      const metadata = coreMetadataOf(f);
      return {
        filename: f.filename,
        url: f.url,
        hashes: f.sha256 ? { sha256: f.sha256 } : {},
        ...(f.requiresPython ? { 'requires-python': f.requiresPython } : {}),
        ...(metadata ? { 'core-metadata': metadata } : {}),
        ...(f.size !== undefined ? { size: f.size } : {}),
        ...(f.uploaded !== undefined ? { 'upload-time': new Date(f.uploaded).toISOString() } : {}),
        yanked: f.yanked ?? false,
      };
    }),
  });
}
