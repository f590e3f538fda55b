import { createHash } from 'node:crypto';
import { ArcaError } from '../../core/errors.js';
import { parseDistributionFilename, type DistributionFile } from './filenames.js';
import type { MultipartReader } from './multipart.js';
import { isValidProjectName, normalizeProjectName } from './names.js';
import { isValidVersion, sameVersion } from './versions.js';
import { WheelInspector } from './wheel-inspector.js';

/**
 * The legacy upload API as twine sends it: one multipart/form-data POST with
 * `:action=file_upload`, `protocol_version=1`, the core metadata as fields (`name`,
 * `version`, `filetype`, `requires_python`, `summary`, …), the digests (`md5_digest`,
 * `sha256_digest`) and the file in the `content` part. The file streams to the store as it
 * arrives; the fields after it are read before the file's body ends, and every check runs
 * then, so a refused upload throws out of the body and nothing is stored.
 */

export const PROPERTY = {
  name: 'pypi.name',
  normalizedName: 'pypi.normalized.name',
  version: 'pypi.version',
  summary: 'pypi.summary',
  requiresPython: 'pypi.requires_python',
  metadataSha256: 'pypi.metadata.sha256',
} as const;

const MAX_FIELD_BYTES = 1024 * 1024;
const MAX_FIELDS_BYTES = 8 * 1024 * 1024;
const FILETYPES = { wheel: 'bdist_wheel', sdist: 'sdist' } as const;

export interface UploadTarget {
  file: DistributionFile;
  /** Where the file goes in the repository: `{project}/{version}/{filename}`. */
  path: string;
  /** Digests the client declared; complete once the body has ended. */
  expected: { sha256?: string; md5?: string };
  /** Properties to store on the file; complete once the body has ended. */
  properties: Record<string, string[]>;
  /** A wheel's METADATA (PEP 658), once the body has ended. */
  metadata?: Buffer;
}

/** Stores the body at the target's path; the body throws if the upload is refused. */
export type UploadStore<T> = (target: UploadTarget, body: AsyncIterable<Buffer>) => Promise<T>;

const bad = (message: string) => new ArcaError('BAD_REQUEST', message);

class Fields {
  readonly values = new Map<string, string[]>();
  bytes = 0;
  add(name: string, value: string): void {
    this.bytes += Buffer.byteLength(value);
    if (this.bytes > MAX_FIELDS_BYTES) throw bad(`The upload form's fields exceed ${MAX_FIELDS_BYTES} bytes`);
    const list = this.values.get(name) ?? [];
    list.push(value);
    this.values.set(name, list);
  }
  get(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }
}

/** Reads the rest of the form (after or without a content part) into `fields`. */
async function readFields(reader: MultipartReader, fields: Fields, onContent?: () => never): Promise<void> {
  for (let part = await reader.next(); part; part = await reader.next()) {
    if (part.name === 'content' && onContent) onContent();
    if (part.filename !== undefined) continue; // gpg_signature, attestations: not kept
    fields.add(part.name, await reader.text(MAX_FIELD_BYTES));
  }
}

/** The checks that only need the fields and the file name; `final` once every field is in. */
function checkFields(fields: Fields, file: DistributionFile | undefined, final: boolean): void {
  const action = fields.get(':action');
  if (action !== undefined && action !== 'file_upload') throw bad(`Unsupported :action '${action}': only file_upload is supported`);
  if (final && action === undefined) throw bad('The upload has no :action field (expected file_upload)');
  const protocol = fields.get('protocol_version');
  if (protocol !== undefined && protocol !== '1') throw bad(`Unsupported protocol_version '${protocol}': only 1 is supported`);
  const name = fields.get('name');
  const version = fields.get('version');
  if (name !== undefined && !isValidProjectName(name)) throw bad(`'${name}' is not a valid project name`);
  if (version !== undefined && !isValidVersion(version)) throw bad(`'${version}' is not a valid PEP 440 version`);
  if (final && name === undefined) throw bad('The upload has no name field');
  if (final && version === undefined) throw bad('The upload has no version field');
  for (const [field, length] of [['sha256_digest', 64], ['md5_digest', 32]] as const) {
    const v = fields.get(field);
    if (v !== undefined && !new RegExp(`^[0-9a-fA-F]{${length}}$`).test(v.trim())) throw bad(`${field} must be ${length} hexadecimal digits`);
  }
  if (!file) return;
  if (name !== undefined && normalizeProjectName(name) !== file.project) {
    throw bad(`The file '${file.filename}' belongs to project '${file.name}', but the upload names project '${name}'`);
  }
  if (version !== undefined && !sameVersion(version, file.version)) {
    throw bad(`The file '${file.filename}' has version '${file.version}', but the upload names version '${version}'`);
  }
  const filetype = fields.get('filetype');
  if (filetype !== undefined && filetype !== FILETYPES[file.kind]) {
    throw bad(`The filetype '${filetype}' does not match the file '${file.filename}' (expected ${FILETYPES[file.kind]})`);
  }
}

const MAGIC = { '.tar.gz': Buffer.from([0x1f, 0x8b]), '.zip': Buffer.from('PK\x03\x04', 'latin1') };

/** Checks an sdist's first bytes against its extension. */
class SdistSniffer {
  private head = Buffer.alloc(0);
  constructor(private readonly file: DistributionFile) {}
  push(chunk: Buffer): void {
    if (this.head.length < 4) this.head = Buffer.concat([this.head, chunk.subarray(0, 4)]);
  }
  finish(): void {
    const ext = this.file.filename.toLowerCase().endsWith('.zip') ? '.zip' : '.tar.gz';
    if (!this.head.subarray(0, MAGIC[ext].length).equals(MAGIC[ext])) {
      throw bad(`'${this.file.filename}' is not a valid source distribution: the content is not a ${ext === '.zip' ? 'zip archive' : 'gzip file'}`);
    }
  }
}

function propertiesOf(fields: Fields, file: DistributionFile, metadata: Buffer | undefined, requiresPython: string | undefined) {
  const props: Record<string, string[]> = {
    [PROPERTY.name]: [fields.get('name') ?? file.name],
    [PROPERTY.normalizedName]: [file.project],
    [PROPERTY.version]: [fields.get('version') ?? file.version],
  };
  const summary = fields.get('summary')?.trim();
  if (summary) props[PROPERTY.summary] = [summary.slice(0, 512)];
  if (requiresPython) props[PROPERTY.requiresPython] = [requiresPython];
  if (metadata) props[PROPERTY.metadataSha256] = [createHash('sha256').update(metadata).digest('hex')];
  return props;
}

/**
 * Reads a legacy upload form, handing the `content` part to `store` as it streams.
 * Throws BAD_REQUEST for a refused upload (after `store` has discarded what it staged).
 */
export async function receiveLegacyUpload<T>(reader: MultipartReader, store: UploadStore<T>): Promise<{ target: UploadTarget; result: T }> {
  const fields = new Fields();
  for (let part = await reader.next(); part; part = await reader.next()) {
    if (part.name !== 'content') {
      if (part.filename === undefined) fields.add(part.name, await reader.text(MAX_FIELD_BYTES));
      continue;
    }
    if (!part.filename) throw bad('The content part has no file name');
    checkFields(fields, undefined, false);
    const parsed = parseDistributionFilename(part.filename, fields.get('version'));
    if (!parsed.ok) throw bad(`Invalid distribution file name: ${parsed.reason}`);
    const file = parsed.file;
    checkFields(fields, file, false);
    const target: UploadTarget = { file, path: `${file.project}/${file.normalizedVersion}/${file.filename}`, expected: {}, properties: {} };
    const inspector = file.kind === 'wheel' ? new WheelInspector(file) : new SdistSniffer(file);
    const body = async function* () {
      for await (const chunk of reader.bodyChunks()) {
        inspector.push(chunk);
        yield chunk;
      }
      await readFields(reader, fields, () => {
        throw bad('The upload has more than one content part');
      });
      checkFields(fields, file, true);
      let requiresPython = fields.get('requires_python')?.trim();
      if (inspector instanceof WheelInspector) {
        let inspection;
        try {
          inspection = await inspector.finish();
        } catch (err) {
          throw bad((err as Error).message);
        }
        target.metadata = inspection.metadata;
        requiresPython = inspection.core.requiresPython?.trim() || requiresPython;
      } else inspector.finish();
      if (requiresPython && /[\r\n]/.test(requiresPython)) throw bad('requires_python must be one line');
      const sha256 = fields.get('sha256_digest')?.trim().toLowerCase();
      const md5 = fields.get('md5_digest')?.trim().toLowerCase();
      if (sha256) target.expected.sha256 = sha256;
      if (md5) target.expected.md5 = md5;
      Object.assign(target.properties, propertiesOf(fields, file, target.metadata, requiresPython));
    };
    const result = await store(target, body());
    await reader.drain();
    return { target, result };
  }
  checkFields(fields, undefined, true);
  throw bad('The upload has no content part (the distribution file)');
}
