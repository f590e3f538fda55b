import { SIMPLE_HTML, SIMPLE_JSON } from './negotiate.js';

/**
 * Reads another index's simple pages (PEP 503 HTML or PEP 691 JSON) for remote
 * repositories: the project names of the root page, and the files of a project page with
 * their absolute URLs, hashes, `requires-python`, core-metadata hash and yanked flag.
 */

/** What a remote repository sends upstream, the way pip asks: JSON first, HTML as fallback. */
export const UPSTREAM_ACCEPT = `${SIMPLE_JSON}, ${SIMPLE_HTML};q=0.1, text/html;q=0.01`;

export interface UpstreamFile {
  filename: string;
  /** Absolute, without the fragment. */
  url: string;
  sha256?: string;
  requiresPython?: string;
  /** true: metadata offered without a known hash. */
  metadataSha256?: string | true;
  yanked?: string | true;
  size?: number;
  uploaded?: number;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, code: string) => {
    if (code[0] === '#') {
      const n = code[1] === 'x' || code[1] === 'X' ? parseInt(code.slice(2), 16) : parseInt(code.slice(1), 10);
      return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : whole;
    }
    return (Object.hasOwn(ENTITIES, code.toLowerCase()) ? ENTITIES[code.toLowerCase()] : undefined) ?? whole;
  });
}

interface Anchor {
  attrs: Map<string, string>;
  text: string;
}

function anchors(html: string): Anchor[] {
  const out: Anchor[] = [];
  // Quoted attribute values may hold '>'.
  const re = /<a\b((?:[^>"']|"[^"]*"|'[^']*')*)>([\s\S]*?)<\/a\s*>/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(html)) !== null) {
    const attrs = new Map<string, string>();
    const attrRe = /([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
    let a: RegExpExecArray | null;
    while ((a = attrRe.exec(m[1])) !== null) attrs.set(a[1].toLowerCase(), decodeEntities(a[2] ?? a[3] ?? a[4] ?? ''));
    out.push({ attrs, text: decodeEntities(m[2].replace(/<[^>]*>/g, '')).trim() });
  }
  return out;
}

function isJson(data: Buffer): boolean {
  for (const byte of data) {
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) continue;
    return byte === 0x7b;
  }
  return false;
}

/** `sha256=<hex>` (a fragment or a metadata attribute) → the hex, if it is sha256. */
function sha256Of(value: string | undefined): string | undefined {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(value ?? '');
  return m ? m[1].toLowerCase() : undefined;
}

/**
 * A link of an upstream page resolved against the page's URL, when it is an http(s) link;
 * undefined for every other scheme. The URL parser has already undone what hides a scheme
 * (entities are decoded before; leading control characters and spaces, tabs and newlines
 * inside, and upper case are normalised by the parser), so `javascript:`, `data:`,
 * `vbscript:` and the rest are dropped however they are spelled.
 */
function absolute(href: string, base: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(href, base);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  // Credentials in a link would be shown to every client of the index.
  if (url.username || url.password) return undefined;
  return url;
}

/** Project names of a root page (normalisation is the caller's). */
export function parseRootPage(data: Buffer): string[] {
  if (isJson(data)) {
    const doc = JSON.parse(data.toString('utf8')) as { projects?: { name?: unknown }[] };
    return (doc.projects ?? []).map((p) => p.name).filter((n): n is string => typeof n === 'string');
  }
  return anchors(data.toString('utf8')).map((a) => a.text).filter((t) => t !== '');
}

/** Files of a project page; relative URLs are resolved against `pageUrl`. */
export function parseProjectPage(data: Buffer, pageUrl: string): UpstreamFile[] {
  if (isJson(data)) return parseJsonPage(data, pageUrl);
  const out: UpstreamFile[] = [];
  for (const a of anchors(data.toString('utf8'))) {
    const href = a.attrs.get('href');
    const url = href === undefined ? undefined : absolute(href, pageUrl);
    if (!url) continue;
    const fragment = url.hash.slice(1);
    url.hash = '';
    const filename = decodeURIComponent(url.pathname.slice(url.pathname.lastIndexOf('/') + 1)) || a.text;
    const metadata = a.attrs.get('data-core-metadata') ?? a.attrs.get('data-dist-info-metadata');
    const yanked = a.attrs.get('data-yanked');
    out.push({
      filename,
      url: url.href,
      sha256: sha256Of(fragment),
      requiresPython: a.attrs.get('data-requires-python') || undefined,
      metadataSha256: metadata === undefined || metadata === 'false' ? undefined : (sha256Of(metadata) ?? true),
      yanked: yanked === undefined ? undefined : yanked || true,
    });
  }
  return out;
}

interface JsonFile {
  filename?: unknown;
  url?: unknown;
  hashes?: Record<string, unknown>;
  'requires-python'?: unknown;
  'core-metadata'?: unknown;
  'dist-info-metadata'?: unknown;
  yanked?: unknown;
  size?: unknown;
  'upload-time'?: unknown;
}

/** A JSON `core-metadata` value: true, or hashes (sha256 kept when valid; other hashes only say it exists). */
function metadataOf(meta: unknown, sha: unknown): string | true | undefined {
  if (meta === true) return true;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return undefined;
  if (typeof sha === 'string' && /^[0-9a-f]{64}$/i.test(sha)) return sha.toLowerCase();
  return Object.keys(meta).length > 0 ? true : undefined;
}

function parseJsonPage(data: Buffer, pageUrl: string): UpstreamFile[] {
  const doc = JSON.parse(data.toString('utf8')) as { files?: JsonFile[] };
  const out: UpstreamFile[] = [];
  for (const f of doc.files ?? []) {
    if (typeof f.filename !== 'string' || typeof f.url !== 'string') continue;
    const url = absolute(f.url, pageUrl);
    if (!url) continue;
    url.hash = '';
    const sha = typeof f.hashes?.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(f.hashes.sha256) ? f.hashes.sha256.toLowerCase() : undefined;
    const meta = f['core-metadata'] ?? f['dist-info-metadata'];
    const metaSha = typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>).sha256 : undefined;
    const uploaded = typeof f['upload-time'] === 'string' ? Date.parse(f['upload-time']) : NaN;
    out.push({
      filename: f.filename,
      url: url.href,
      sha256: sha,
      requiresPython: typeof f['requires-python'] === 'string' && f['requires-python'] ? f['requires-python'] : undefined,
      metadataSha256: metadataOf(meta, metaSha),
      yanked: f.yanked === true ? true : typeof f.yanked === 'string' && f.yanked !== '' ? f.yanked : undefined,
      size: typeof f.size === 'number' ? f.size : undefined,
      uploaded: Number.isNaN(uploaded) ? undefined : uploaded,
    });
  }
  return out;
}
