import { ArcaError } from '../../core/errors.js';
import { child, parseXml, text } from './maven-xml.js';

/** The coordinates a POM declares (groupId and version may be inherited from `<parent>`). */
export interface PomCoordinates {
  groupId?: string;
  artifactId?: string;
  version?: string;
  packaging: string;
}

/** Reads a POM's coordinates; malformed XML or a root other than `<project>` → BAD_REQUEST. */
export function parsePom(data: Buffer | string): PomCoordinates {
  const doc = parseXml(data, 'POM');
  const project = child(doc, 'project');
  if (!project) throw new ArcaError('BAD_REQUEST', 'Malformed POM: the root element must be <project>');
  const parent = child(project, 'parent');
  return {
    groupId: text(project, 'groupId') ?? text(parent, 'groupId'),
    artifactId: text(project, 'artifactId'),
    version: text(project, 'version') ?? text(parent, 'version'),
    packaging: text(project, 'packaging') ?? 'jar',
  };
}
