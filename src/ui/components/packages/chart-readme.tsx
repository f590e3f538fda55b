import { useAsync } from '../hooks';
import { Readme } from './parts';

/** Charts bigger than this are not downloaded for their readme. */
const MAX_CHART = 4 * 1024 * 1024;
/** Nor is more than this unpacked. */
const MAX_UNPACKED = 16 * 1024 * 1024;

/** The text of `{chart}/README.md` (any case, first level) in an uncompressed tar, if there. */
export function readmeInTar(tar: Uint8Array): string | undefined {
  const dec = new TextDecoder();
  for (let off = 0; off + 512 <= tar.length; ) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) return undefined;
    const field = (a: number, n: number) => dec.decode(header.subarray(a, a + n)).replace(/\0.*$/s, '');
    const name = field(0, 100);
    const prefix = field(345, 155);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const full = prefix ? `${prefix}/${name}` : name;
    const start = off + 512;
    if (!Number.isFinite(size) || size < 0) return undefined;
    if ((type === '0' || type === '') && /^[^/]+\/readme\.md$/i.test(full)) return dec.decode(tar.subarray(start, Math.min(start + size, tar.length)));
    off = start + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

async function loadReadme(url: string, signal: AbortSignal): Promise<string | undefined> {
  if (typeof DecompressionStream === 'undefined') return undefined;
  const res = await fetch(url, { signal, credentials: 'same-origin', headers: { 'x-requested-with': 'XMLHttpRequest' } });
  if (!res.ok || !res.body) return undefined;
  if (Number(res.headers.get('content-length') ?? 0) > MAX_CHART) return undefined;
  const reader = res.body.pipeThrough(new DecompressionStream('gzip')).getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    total += value.length;
    if (total > MAX_UNPACKED) {
      await reader.cancel();
      break;
    }
  }
  const tar = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    tar.set(p.subarray(0, Math.min(p.length, total - at)), at);
    at += p.length;
    if (at >= total) break;
  }
  return readmeInTar(tar);
}

/** The README.md at the first level of a .tgz on this server (a chart, a crate), as plain text; small archives only. */
export function ArchiveReadme({ id, url }: { id: string; url: string }) {
  const abs = new URL(url, window.location.href);
  // Only this server's own files (an index may name an upstream URL for a remote).
  const same = abs.origin === window.location.origin;
  const readme = useAsync((signal) => (same ? loadReadme(abs.href, signal).catch(() => undefined) : Promise.resolve(undefined)), abs.href);
  return <Readme id={id} text={readme.data} />;
}

/** The README.md inside a chart archive (`url` as the chart index gives it, relative to the repository). */
export function ChartReadme({ repo, url }: { repo: string; url: string }) {
  return <ArchiveReadme id="helm" url={new URL(url, `${window.location.origin}/artifactory/api/helm/${encodeURIComponent(repo)}/`).href} />;
}
