import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';

/**
 * Real wheels and sdists for the PyPI tests, written by Python's own `zipfile` and
 * `tarfile` (the writers setuptools and `wheel` use), so the bytes are what clients upload.
 */

export interface WheelOptions {
  name: string;
  version: string;
  /** Name written in METADATA (default: `name`). */
  metadataName?: string;
  /** Version written in METADATA (default: `version`). */
  metadataVersion?: string;
  requiresPython?: string;
  summary?: string;
  /** Module files, path → text. Default: `{module}/__init__.py` with a VERSION constant. */
  files?: Record<string, string>;
  /** Write to a non-seekable stream: every entry then carries a data descriptor. */
  streamed?: boolean;
  /** Force zip64 extra fields in the local headers. */
  zip64?: boolean;
  /** Store instead of deflate. */
  stored?: boolean;
  /** Leave these dist-info files out (e.g. ['WHEEL']). */
  omit?: string[];
  /** Filler bytes in an extra module, to make the archive bigger. */
  padBytes?: number;
  /** This many repeated letters in METADATA's description (a METADATA that inflates hugely). */
  metadataPad?: number;
}

const WHEEL_SCRIPT = String.raw`
import sys, io, json, zipfile, hashlib, base64, os
o = json.loads(sys.argv[1])
module = o['name'].replace('-', '_').replace('.', '_').lower()
dist = o['distName']
files = o.get('files') or {module + '/__init__.py': 'VERSION = %r\n' % o['version']}
if o.get('padBytes'):
    files[module + '/_pad.py'] = '# ' + base64.b64encode(os.urandom(o['padBytes'])).decode() + '\n'
info = dist + '-' + o['distVersion'] + '.dist-info'
meta = 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' % (o['metadataName'], o['metadataVersion'])
if o.get('summary'): meta += 'Summary: %s\n' % o['summary']
if o.get('requiresPython'): meta += 'Requires-Python: %s\n' % o['requiresPython']
meta += '\nA tiny package for tests.\n' + 'x' * o.get('metadataPad', 0)
entries = list(files.items())
entries.append((info + '/METADATA', meta))
entries.append((info + '/WHEEL', 'Wheel-Version: 1.0\nGenerator: arca-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n'))
entries = [e for e in entries if e[0].split('/')[-1] not in o.get('omit', [])]
record = ''
for path, text in entries:
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()
    record += '%s,sha256=%s,%d\n' % (path, digest, len(text.encode()))
record += info + '/RECORD,,\n'
if 'RECORD' not in o.get('omit', []): entries.append((info + '/RECORD', record))
class Unseekable(io.RawIOBase):
    def __init__(self, f): self.f = f
    def writable(self): return True
    def write(self, b): return self.f.write(b)
    def seekable(self): return False
out = open(sys.argv[2], 'wb')
target = Unseekable(out) if o.get('streamed') else out
method = zipfile.ZIP_STORED if o.get('stored') else zipfile.ZIP_DEFLATED
with zipfile.ZipFile(target, 'w', method) as z:
    for path, text in entries:
        zi = zipfile.ZipInfo(path, (2024, 1, 2, 3, 4, 5))
        zi.compress_type = method
        with z.open(zi, 'w', force_zip64=bool(o.get('zip64'))) as f:
            f.write(text.encode())
out.close()
`;

/**
 * An sdist with an in-tree PEP 517 backend (`backend-path`, no build requirements), so pip
 * can prepare its metadata and build its wheel offline, without setuptools or wheel.
 */
const SDIST_SCRIPT = String.raw`
import sys, io, json, tarfile
o = json.loads(sys.argv[1])
base = o['stem']
module = o['name'].replace('-', '_').replace('.', '_').lower()
dist = o['distName']
meta = 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' % (o['name'], o['version'])
backend = """import base64, hashlib, os, zipfile
HERE = os.path.dirname(os.path.abspath(__file__))
META = %r
INFO = %r
MODULE = %r
WHEEL_NAME = %r
def get_requires_for_build_wheel(config_settings=None):
    return []
def get_requires_for_build_sdist(config_settings=None):
    return []
def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    os.makedirs(os.path.join(metadata_directory, INFO))
    with open(os.path.join(metadata_directory, INFO, 'METADATA'), 'w') as f:
        f.write(META)
    return INFO
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open(os.path.join(HERE, MODULE, '__init__.py')) as f:
        entries = [(MODULE + '/__init__.py', f.read())]
    entries.append((INFO + '/METADATA', META))
    entries.append((INFO + '/WHEEL', 'Wheel-Version: 1.0\\nGenerator: arca-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n'))
    record = ''
    for path, text in entries:
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()
        record += '%%s,sha256=%%s,%%d\\n' %% (path, digest, len(text.encode()))
    entries.append((INFO + '/RECORD', record + INFO + '/RECORD,,\\n'))
    with zipfile.ZipFile(os.path.join(wheel_directory, WHEEL_NAME), 'w', zipfile.ZIP_DEFLATED) as z:
        for path, text in entries:
            z.writestr(path, text)
    return WHEEL_NAME
""" % (meta, dist + '-' + o['version'] + '.dist-info', module, dist + '-' + o['version'] + '-py3-none-any.whl')
files = {
    base + '/PKG-INFO': meta,
    base + '/pyproject.toml': '[build-system]\nrequires = []\nbuild-backend = "arca_backend"\nbackend-path = ["."]\n',
    base + '/arca_backend.py': backend,
    base + '/' + module + '/__init__.py': 'VERSION = %r\nFROM_SDIST = True\n' % o['version'],
}
with tarfile.open(sys.argv[2], 'w:gz') as t:
    for path, text in files.items():
        data = text.encode()
        ti = tarfile.TarInfo(path); ti.size = len(data); ti.mtime = 1704164645
        t.addfile(ti, io.BytesIO(data))
`;

function runPython(script: string, options: unknown, out: string): void {
  execFileSync('python3', ['-c', script, JSON.stringify(options), out], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** The PEP 427 escaped distribution name (runs of `-_.` become `_`). */
export function escapedName(name: string): string {
  return name.replace(/[-_.]+/g, '_');
}

export function wheelFilename(name: string, version: string): string {
  return `${escapedName(name)}-${version}-py3-none-any.whl`;
}

/** Writes a pure-Python wheel to `out`. */
export function writeWheel(out: string, o: WheelOptions): void {
  runPython(
    WHEEL_SCRIPT,
    {
      ...o,
      distName: escapedName(o.name),
      distVersion: o.version,
      metadataName: o.metadataName ?? o.name,
      metadataVersion: o.metadataVersion ?? o.version,
    },
    out,
  );
}

/** Writes `{escaped name}-{version}.tar.gz` content to `out`. */
export function writeSdist(out: string, name: string, version: string): void {
  runPython(SDIST_SCRIPT, { name, version, stem: `${escapedName(name)}-${version}`, distName: escapedName(name) }, out);
}

export const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
export const md5Hex = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

export interface UploadForm {
  fields: [string, string][];
  filename: string;
  content: Buffer;
  /** Put the content part first instead of last (twine puts it last). */
  contentFirst?: boolean;
}

/** Twine's form for a file: the metadata fields, the digests, then `content`. */
export function twineFields(name: string, version: string, content: Buffer, filetype: 'bdist_wheel' | 'sdist', extra: [string, string][] = []): [string, string][] {
  return [
    [':action', 'file_upload'],
    ['protocol_version', '1'],
    ['metadata_version', '2.1'],
    ['name', name],
    ['version', version],
    ['filetype', filetype],
    ['pyversion', filetype === 'sdist' ? 'source' : 'py3'],
    ['summary', 'A tiny package for tests'],
    ['md5_digest', md5Hex(content)],
    ['sha256_digest', sha256Hex(content)],
    ...extra,
  ];
}

/** A multipart/form-data body laid out as requests-toolbelt (twine) writes it. */
export function multipartBody(form: UploadForm, boundary = `arca${Math.random().toString(16).slice(2)}`): { body: Buffer; contentType: string } {
  const parts: Buffer[] = [];
  const field = ([k, v]: [string, string]) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  const file = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="content"; filename="${form.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    form.content,
    Buffer.from('\r\n'),
  ]);
  if (form.contentFirst) parts.push(file);
  parts.push(...form.fields.map(field));
  if (!form.contentFirst) parts.push(file);
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}
