/** A child of a listed folder (the fields of its item the listing shows). */
export interface ListedChild {
  name: string;
  type: 'file' | 'folder';
  modified: number;
  size: number;
}

/** Text and (quoted) attribute values: every character that can end either is escaped. */
function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function pad(s: string, n: number): string {
  return s.length >= n ? `${s} ` : s + ' '.repeat(n - s.length);
}

/** The simple HTML index a browser (or a directory-walking client) gets for a folder URL. */
export function folderListingHtml(repo: string, folder: string, children: readonly ListedChild[]): string {
  const title = esc(`Index of ${repo}/${folder}${folder ? '/' : ''}`);
  const rows = children.map((c) => {
    const name = c.type === 'folder' ? `${c.name}/` : c.name;
    const href = encodeURIComponent(c.name) + (c.type === 'folder' ? '/' : '');
    const date = new Date(c.modified).toISOString().replace('T', ' ').slice(0, 16);
    const size = c.type === 'folder' ? '-' : String(c.size);
    return `<a href="${esc(href)}">${esc(name)}</a>${' '.repeat(Math.max(1, 50 - name.length))}${pad(date, 18)}${size}`;
  });
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>${title}</title></head>
<body>
<h1>${title}</h1>
<pre>${folder ? '<a href="../">../</a>\n' : ''}${rows.join('\n')}</pre>
<hr/><address>Arca</address>
</body>
</html>
`;
}
