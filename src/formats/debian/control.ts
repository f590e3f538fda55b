/**
 * Debian control data (deb822 paragraphs, Debian Policy §5): the control file of a binary
 * package, checked as dpkg would, and the stanzas of a `Packages` index made from it.
 */
import { ArcaError } from '../../core/errors.js';

/** One paragraph: fields in their order, each value as written (continuation lines kept). */
export type Paragraph = Array<[name: string, value: string]>;

function bad(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', `Invalid Debian control file: ${message}`);
}

/** The paragraphs of deb822 text (a Packages file, a Release file, a control file). */
export function parseParagraphs(text: string): Paragraph[] {
  const out: Paragraph[] = [];
  let current: Paragraph = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      if (current.length > 0) out.push(current);
      current = [];
      continue;
    }
    if (line.startsWith('#')) continue;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (current.length === 0) throw bad('a continuation line comes before any field');
      current[current.length - 1][1] += `\n${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw bad(`'${line.slice(0, 60)}' is not a field`);
    const name = line.slice(0, colon);
    if (!/^[!-9;-~][!-9;-~]*$/.test(name) || name.startsWith('-')) throw bad(`'${name}' is not a valid field name`);
    current.push([name, line.slice(colon + 1).trim()]);
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** A field's value (case-insensitive name, as deb822 wants), or undefined. */
export function field(p: Paragraph, name: string): string | undefined {
  const lower = name.toLowerCase();
  return p.find(([n]) => n.toLowerCase() === lower)?.[1];
}

/** Renders a paragraph (no trailing blank line). */
export function renderParagraph(p: Paragraph): string {
  return p.map(([n, v]) => (v.startsWith('\n') ? `${n}:${v}` : `${n}: ${v}`)).join('\n');
}

// Debian Policy §5.6.1 (package names) and §5.6.12 (versions).
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const ARCHITECTURE = /^[a-z0-9][a-z0-9-]*$/;

/** True for a version as Debian Policy allows: `[epoch:]upstream[-revision]`. */
export function validVersion(version: string): boolean {
  const m = /^(?:(\d+):)?(.+)$/.exec(version);
  if (!m) return false;
  const rest = m[2];
  const dash = rest.lastIndexOf('-');
  const upstream = dash < 0 ? rest : rest.slice(0, dash);
  const revision = dash < 0 ? undefined : rest.slice(dash + 1);
  if (!/^[0-9][A-Za-z0-9.+~-]*$/.test(upstream)) return false;
  if (dash < 0 && upstream.includes('-')) return false;
  return revision === undefined || /^[A-Za-z0-9.+~]+$/.test(revision);
}

export function validPackageName(name: string): boolean {
  return PACKAGE_NAME.test(name);
}

export function validArchitecture(arch: string): boolean {
  return ARCHITECTURE.test(arch);
}

/** A binary package's control data, checked. */
export interface ControlData {
  package: string;
  version: string;
  architecture: string;
  /** Every field, as in the control file. */
  paragraph: Paragraph;
}

const REQUIRED = ['Package', 'Version', 'Architecture', 'Maintainer', 'Description'];

/** Fields a Packages stanza gets from the file, never from the control file. */
const FILE_FIELDS = new Set(['filename', 'size', 'md5sum', 'sha1', 'sha256', 'sha512', 'description-md5']);

/** Parses and checks a binary package's control file. */
export function parseControl(text: string): ControlData {
  const paragraphs = parseParagraphs(text);
  if (paragraphs.length !== 1) throw bad(`it holds ${paragraphs.length} paragraphs, not one`);
  const p = paragraphs[0];
  const seen = new Set<string>();
  for (const [n] of p) {
    if (seen.has(n.toLowerCase())) throw bad(`field '${n}' appears twice`);
    seen.add(n.toLowerCase());
  }
  for (const f of REQUIRED) if (!field(p, f)) throw bad(`the required field '${f}' is missing or empty`);
  const name = field(p, 'Package')!;
  const version = field(p, 'Version')!;
  const architecture = field(p, 'Architecture')!;
  if (!validPackageName(name)) throw bad(`'${name}' is not a valid package name (lower-case letters, digits, + - and ., at least two characters)`);
  if (!validVersion(version)) throw bad(`'${version}' is not a valid Debian version ([epoch:]upstream[-revision])`);
  if (!validArchitecture(architecture)) throw bad(`'${architecture}' is not a single architecture name`);
  return { package: name, version, architecture, paragraph: p.filter(([n]) => !FILE_FIELDS.has(n.toLowerCase())) };
}

/** What a Packages stanza says about the file itself. */
export interface FileFacts {
  filename: string;
  size: number;
  md5: string;
  sha1: string;
  sha256: string;
}

/** The Packages stanza of a package stored at `facts.filename` (fields as dpkg-scanpackages orders the file's). */
export function packagesStanza(control: ControlData, facts: FileFacts): string {
  const p = control.paragraph;
  const head = p.filter(([n]) => n.toLowerCase() !== 'description');
  const description = p.find(([n]) => n.toLowerCase() === 'description');
  const out: Paragraph = [
    ...head,
    ['Filename', facts.filename],
    ['Size', String(facts.size)],
    ['MD5sum', facts.md5],
    ['SHA1', facts.sha1],
    ['SHA256', facts.sha256],
  ];
  if (description) out.push(description);
  return renderParagraph(out);
}
