/**
 * Parsing and validation of the manifests a registry stores: OCI image manifests and image
 * indexes (OCI Image Specification v1.1) and Docker's image manifest v2 schema 2 and
 * manifest list. The bytes are never rewritten; this only reads what they reference.
 */
import { OciError } from './oci-errors.js';
import { bareMediaType, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_SCHEMA1, INDEX_TYPES, MANIFEST_TYPES, OCI_INDEX, OCI_MANIFEST } from './media-types.js';
import { parseDigest, type Digest } from './reference.js';

/** Largest manifest accepted (the spec asks registries to take at least 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  /** Where a foreign layer can be fetched instead of from the registry. */
  urls?: string[];
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ParsedManifest {
  /** The manifest's media type (its `mediaType` field, else the request's Content-Type). */
  mediaType: string;
  kind: 'image' | 'index';
  /** Image manifests: the config blob. */
  config?: Descriptor;
  /** Image manifests: the layers (may be empty for artifacts). */
  layers: Descriptor[];
  /** Indexes: the manifests listed. */
  manifests: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

type Json = Record<string, unknown>;

function invalid(message: string, detail?: unknown): OciError {
  return new OciError('MANIFEST_INVALID', message, { detail });
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function annotationsOf(v: unknown, where: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v) || !Object.values(v).every((x) => typeof x === 'string')) throw invalid(`${where}: 'annotations' must be an object of strings`);
  return v as Record<string, string>;
}

function optionalString(v: unknown, field: string, where: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(`${where}: '${field}' must be a string`);
  return v;
}

/** Validates one descriptor (OCI Image Specification, "Descriptors"). */
export function parseDescriptor(v: unknown, where: string): Descriptor {
  if (!isObject(v)) throw invalid(`${where} must be a descriptor object`);
  if (typeof v.mediaType !== 'string' || v.mediaType === '') throw invalid(`${where}: 'mediaType' is required`);
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) throw invalid(`${where}: 'size' must be a non-negative integer`);
  let digest: Digest;
  try {
    digest = parseDigest(typeof v.digest === 'string' ? v.digest : undefined);
  } catch (err) {
    throw invalid(`${where}: ${(err as Error).message}`, { digest: v.digest });
  }
  const d: Descriptor = { mediaType: v.mediaType, digest, size: v.size };
  if (v.urls !== undefined) {
    if (!Array.isArray(v.urls) || !v.urls.every((u) => typeof u === 'string')) throw invalid(`${where}: 'urls' must be an array of strings`);
    d.urls = v.urls as string[];
  }
  const artifactType = optionalString(v.artifactType, 'artifactType', where);
  if (artifactType !== undefined) d.artifactType = artifactType;
  const annotations = annotationsOf(v.annotations, where);
  if (annotations) d.annotations = annotations;
  return d;
}

function descriptors(v: unknown, field: string): Descriptor[] {
  if (!Array.isArray(v)) throw invalid(`'${field}' must be an array of descriptors`);
  return v.map((d, i) => parseDescriptor(d, `${field}[${i}]`));
}

/** Decides the manifest's media type from its body and the request's Content-Type. */
function mediaTypeOf(body: Json, contentType: string | undefined): string {
  const declared = typeof body.mediaType === 'string' ? body.mediaType : undefined;
  if (body.mediaType !== undefined && declared === undefined) throw invalid("'mediaType' must be a string");
  const header = bareMediaType(contentType);
  const headerIsManifest = MANIFEST_TYPES.includes(header) || DOCKER_SCHEMA1.includes(header);
  if (declared !== undefined && headerIsManifest && declared !== header) {
    throw invalid(`The manifest's mediaType '${declared}' differs from the Content-Type '${header}'`);
  }
  const type = declared ?? (headerIsManifest ? header : body.manifests !== undefined ? OCI_INDEX : OCI_MANIFEST);
  if (DOCKER_SCHEMA1.includes(type) || body.schemaVersion === 1) {
    throw invalid('Docker image manifest schema 1 is not supported: push schema 2 or OCI manifests');
  }
  if (!MANIFEST_TYPES.includes(type)) {
    throw invalid(`Unsupported manifest media type '${type}' (expected one of ${MANIFEST_TYPES.join(', ')})`);
  }
  return type;
}

/** Parses and validates a manifest; throws MANIFEST_INVALID with the reason. */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  if (bytes.length === 0) throw invalid('The manifest is empty');
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new OciError('SIZE_INVALID', `The manifest is larger than ${MAX_MANIFEST_BYTES} bytes`, { code: 'PAYLOAD_TOO_LARGE' });
  }
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalid(`The manifest is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(body)) throw invalid('The manifest must be a JSON object');
  const mediaType = mediaTypeOf(body, contentType);
  if (body.schemaVersion !== 2) throw invalid("'schemaVersion' must be 2");
  const artifactType = optionalString(body.artifactType, 'artifactType', 'manifest');
  const annotations = annotationsOf(body.annotations, 'manifest');
  const subject = body.subject === undefined ? undefined : parseDescriptor(body.subject, 'subject');
  const out: ParsedManifest = { mediaType, kind: INDEX_TYPES.includes(mediaType) ? 'index' : 'image', layers: [], manifests: [] };
  if (out.kind === 'index') {
    if (body.layers !== undefined || body.config !== undefined) throw invalid(`An index (${mediaType}) has no 'config' or 'layers'`);
    out.manifests = descriptors(body.manifests, 'manifests');
    if (mediaType === DOCKER_MANIFEST_LIST) {
      for (const [i, m] of out.manifests.entries()) {
        if (!MANIFEST_TYPES.includes(m.mediaType)) throw invalid(`manifests[${i}]: '${m.mediaType}' is not a manifest media type`);
      }
    }
  } else {
    if (body.manifests !== undefined) throw invalid(`An image manifest (${mediaType}) has no 'manifests'`);
    out.config = parseDescriptor(body.config, 'config');
    out.layers = body.layers === undefined && mediaType === OCI_MANIFEST ? [] : descriptors(body.layers, 'layers');
    if (mediaType === DOCKER_MANIFEST && out.layers.length === 0) throw invalid('A Docker image manifest needs at least one layer');
  }
  if (artifactType !== undefined) out.artifactType = artifactType;
  if (annotations) out.annotations = annotations;
  if (subject) out.subject = subject;
  return out;
}

/**
 * The blobs a manifest needs in the registry before it can be stored: the config and the
 * layers of an image manifest (foreign layers with `urls` are fetched from elsewhere).
 */
export function requiredBlobs(m: ParsedManifest): Descriptor[] {
  if (m.kind !== 'image') return [];
  return [m.config!, ...m.layers.filter((l) => !(l.urls && l.urls.length > 0))];
}

/** The artifact type a referrers list shows for a manifest (OCI Distribution Spec, "Listing Referrers"). */
export function effectiveArtifactType(m: ParsedManifest): string | undefined {
  if (m.artifactType) return m.artifactType;
  return m.kind === 'image' ? m.config?.mediaType : undefined;
}
