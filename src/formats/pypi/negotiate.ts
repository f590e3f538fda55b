/**
 * Content negotiation of the simple repository API (PEP 691): the client lists the types it
 * takes in `Accept` with q-values; the index answers JSON or HTML (PEP 503), or 406 when
 * none is acceptable. `latest` aliases name the newest version, v1.
 */

export type SimpleFormat = 'json' | 'html';

export interface Representation {
  format: SimpleFormat;
  contentType: string;
}

export const SIMPLE_JSON = 'application/vnd.pypi.simple.v1+json';
export const SIMPLE_HTML = 'application/vnd.pypi.simple.v1+html';

/** In server preference order: the one chosen when the client has no preference (`*\/*`). */
const REPRESENTATIONS: Representation[] = [
  { format: 'html', contentType: 'text/html' },
  { format: 'json', contentType: SIMPLE_JSON },
  { format: 'html', contentType: SIMPLE_HTML },
];

const ALIASES: Record<string, string> = {
  'application/vnd.pypi.simple.latest+json': SIMPLE_JSON,
  'application/vnd.pypi.simple.latest+html': SIMPLE_HTML,
};

interface AcceptRange {
  type: string;
  subtype: string;
  q: number;
  order: number;
}

function parseAccept(header: string): AcceptRange[] {
  const out: AcceptRange[] = [];
  header.split(',').forEach((item, order) => {
    const [range, ...params] = item.split(';').map((s) => s.trim());
    if (!range) return;
    const full = aliasOf(range.toLowerCase());
    const slash = full.indexOf('/');
    if (slash <= 0) return;
    let q = 1;
    for (const p of params) {
      const m = /^q\s*=\s*([0-9.]+)$/i.exec(p);
      if (m) q = Math.min(1, Math.max(0, Number(m[1]) || 0));
    }
    out.push({ type: full.slice(0, slash), subtype: full.slice(slash + 1), q, order });
  });
  return out;
}

/** The most specific range matching a content type, with its specificity. */
function bestMatch(ranges: AcceptRange[], contentType: string): { range: AcceptRange; specificity: number } | undefined {
  const [type, subtype] = contentType.split('/');
  let best: { range: AcceptRange; specificity: number } | undefined;
  for (const r of ranges) {
    const specificity = r.type === type && r.subtype === subtype ? 3 : r.type === type && r.subtype === '*' ? 2 : r.type === '*' && r.subtype === '*' ? 1 : 0;
    if (specificity > 0 && (!best || specificity > best.specificity)) best = { range: r, specificity };
  }
  return best;
}

/**
 * Picks the representation for an Accept header (undefined or empty means text/html).
 * Highest q wins; on a tie the type the client listed first, then the server's order.
 * Returns undefined when nothing acceptable is offered (answer 406).
 */
export function negotiate(accept: string | undefined): Representation | undefined {
  if (accept === undefined || accept.trim() === '') return REPRESENTATIONS[0];
  const ranges = parseAccept(accept);
  let chosen: { rep: Representation; q: number; order: number } | undefined;
  for (const rep of REPRESENTATIONS) {
    const m = bestMatch(ranges, rep.contentType);
    if (!m || m.range.q <= 0) continue;
    const order = m.specificity === 3 ? m.range.order : Number.MAX_SAFE_INTEGER;
    if (!chosen || m.range.q > chosen.q || (m.range.q === chosen.q && order < chosen.order)) chosen = { rep, q: m.range.q, order };
  }
  return chosen?.rep;
}

/** The representation named by PEP 691's `?format=` query parameter, if it is one we serve. */
/** The media type an alias names (own keys only: `constructor` is no alias), else the type itself. */
function aliasOf(type: string): string {
  return Object.hasOwn(ALIASES, type) ? ALIASES[type] : type;
}

export function representationOf(contentType: string): Representation | undefined {
  const ct = aliasOf(contentType.toLowerCase());
  return REPRESENTATIONS.find((r) => r.contentType === ct);
}

export const ACCEPTED_TYPES = [...REPRESENTATIONS.map((r) => r.contentType), ...Object.keys(ALIASES)];
