import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/**
 * .gem files for the RubyGems tests, laid out as `gem build` writes them: a tar of
 * `metadata.gz` (the gemspec YAML with Psych's Ruby tags), `data.tar.gz` and
 * `checksums.yaml.gz`. Options break them in the ways hostile uploads do.
 */

export interface GemOptions {
  name: string;
  version: string;
  platform?: string;
  /** Runtime dependencies: name → requirement (`'>= 1.0'`). */
  dependencies?: Record<string, string>;
  /** Files inside data.tar.gz: path → text (default: `lib/{name}.rb`). */
  files?: Record<string, string>;
  /** A symbolic link inside data.tar.gz: path → target. */
  links?: Record<string, string>;
  /** Text added to the spec's summary (changes the bytes for redeploys). */
  summary?: string;
  /** Leave out checksums.yaml.gz. */
  noChecksums?: boolean;
  /** Write a wrong SHA256 for data.tar.gz in checksums.yaml.gz. */
  badChecksum?: boolean;
  /** Replace the metadata YAML. */
  metadataYaml?: string;
  /** Replace data.tar.gz. */
  dataTarGz?: Buffer;
}

/** One ustar header (plus content and padding) as Gem::Package::TarWriter writes it. */
export function tarEntry(name: string, content: Buffer, type = '0', linkName = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write(linkName, 157, 100, 'utf8');
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([h, content, pad]);
}

export const tarEnd = () => Buffer.alloc(1024);

export function tar(entries: Buffer[]): Buffer {
  return Buffer.concat([...entries, tarEnd()]);
}

function requirementYaml(req: string, indent: string): string {
  return req
    .split(',')
    .map((r) => r.trim().split(/\s+/))
    .map(([op, v]) => `${indent}- - "${op}"\n${indent}  - !ruby/object:Gem::Version\n${indent}    version: '${v}'\n`)
    .join('');
}

/** The gemspec YAML as `gem build` writes it into metadata.gz. */
export function gemspecYaml(o: GemOptions): string {
  const deps = Object.entries(o.dependencies ?? {});
  let y = '--- !ruby/object:Gem::Specification\n';
  y += `name: ${o.name}\nversion: !ruby/object:Gem::Version\n  version: ${o.version}\nplatform: ${o.platform ?? 'ruby'}\n`;
  y += 'authors:\n- Arca Tests\nautorequire:\nbindir: bin\ncert_chain: []\ndate: 2024-05-06 00:00:00.000000000 Z\n';
  y += deps.length === 0 ? 'dependencies: []\n' : 'dependencies:\n';
  for (const [name, req] of deps) {
    y += `- !ruby/object:Gem::Dependency\n  name: ${name}\n  requirement: !ruby/object:Gem::Requirement\n    requirements:\n${requirementYaml(req, '    ')}`;
    y += `  type: :runtime\n  prerelease: false\n  version_requirements: !ruby/object:Gem::Requirement\n    requirements:\n${requirementYaml(req, '    ')}`;
  }
  y += 'description:\nemail:\nexecutables: []\nextensions: []\nextra_rdoc_files: []\n';
  y += `files:\n- lib/${o.name}.rb\nhomepage:\nlicenses:\n- MIT\nmetadata: {}\npost_install_message:\nrdoc_options: []\nrequire_paths:\n- lib\n`;
  y += `required_ruby_version: !ruby/object:Gem::Requirement\n  requirements:\n${requirementYaml('>= 2.0', '  ')}`;
  y += `required_rubygems_version: !ruby/object:Gem::Requirement\n  requirements:\n${requirementYaml('>= 0', '  ')}`;
  y += `requirements: []\nrubygems_version: 3.3.15\nsigning_key:\nspecification_version: 4\nsummary: ${o.summary ?? 'A gem for tests'}\ntest_files: []\n`;
  return y;
}

/** A .gem's bytes. */
export function buildGem(o: GemOptions): Buffer {
  const files = o.files ?? { [`lib/${o.name}.rb`]: `module Fixture; VERSION = '${o.version}'; end\n` };
  const dataEntries = Object.entries(files).map(([p, t]) => tarEntry(p, Buffer.from(t)));
  for (const [p, target] of Object.entries(o.links ?? {})) dataEntries.push(tarEntry(p, Buffer.alloc(0), '2', target));
  const data = o.dataTarGz ?? gzipSync(tar(dataEntries));
  const metadata = gzipSync(Buffer.from(o.metadataYaml ?? gemspecYaml(o)));
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const members = [tarEntry('metadata.gz', metadata), tarEntry('data.tar.gz', data)];
  if (!o.noChecksums) {
    const dataSum = o.badChecksum ? '0'.repeat(64) : sha(data);
    members.push(tarEntry('checksums.yaml.gz', gzipSync(Buffer.from(`---\nSHA256:\n  metadata.gz: ${sha(metadata)}\n  data.tar.gz: ${dataSum}\n`))));
  }
  return tar(members);
}

/** The file name of a gem (`name-version[-platform].gem`). */
export const gemFileName = (name: string, version: string, platform = 'ruby') => (platform === 'ruby' ? `${name}-${version}.gem` : `${name}-${version}-${platform}.gem`);
