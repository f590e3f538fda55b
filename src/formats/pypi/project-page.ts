import { parseDistributionFilename } from './filenames.js';
import type { IndexFile, ProjectPage } from './simple-index.js';
import { PROPERTY } from './upload.js';

/**
 * Builds a project's index page from the files stored under its folder
 * (`{project}/{version}/{file}`): every file whose name parses as a distribution of the
 * project is listed; a sibling `{file}.metadata` makes its core metadata available (PEP 658).
 */

export interface StoredFile {
  /** Repository-relative path. */
  path: string;
  name: string;
  sha256: string;
  size: number;
  created: number;
  properties: Record<string, string[]>;
}

/** Undefined when the project has no distribution files. */
export function buildProjectPage(project: string, files: StoredFile[], urlOf: (path: string) => string): ProjectPage | undefined {
  const metadataByFile = new Map<string, string>();
  for (const f of files) if (f.name.endsWith('.metadata')) metadataByFile.set(f.path.slice(0, -'.metadata'.length), f.sha256);
  const out: IndexFile[] = [];
  const versions = new Set<string>();
  for (const f of files) {
    const parsed = parseDistributionFilename(f.name, f.properties[PROPERTY.version]?.[0]);
    if (!parsed.ok || parsed.file.project !== project) continue;
    versions.add(parsed.file.normalizedVersion);
    out.push({
      filename: f.name,
      url: urlOf(f.path),
      sha256: f.sha256,
      size: f.size,
      uploaded: f.created,
      requiresPython: f.properties[PROPERTY.requiresPython]?.[0],
      metadataSha256: metadataByFile.get(f.path),
    });
  }
  if (out.length === 0) return undefined;
  out.sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
  return { name: project, files: out, versions: [...versions] };
}
