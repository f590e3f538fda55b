import { describe, expect, it } from 'vitest';
import { decodeEntities, parseProjectPage, parseRootPage } from './upstream-page.js';

const PAGE = 'https://index.example/simple/demo/';
const H = 'a'.repeat(64);

describe('upstream simple pages', () => {
  it('reads PEP 503 HTML: relative and absolute links, hashes, attributes, entities', () => {
    const html = Buffer.from(`<!DOCTYPE html><html><body>
      <a href="../../packages/demo-1.0.tar.gz#sha256=${H}" data-requires-python="&gt;=3.8">demo-1.0.tar.gz</a>
      <A HREF='https://files.example/x/demo-1.1-py3-none-any.whl#md5=abc' data-core-metadata="true" data-yanked>demo-1.1-py3-none-any.whl</A>
      <a href="demo%2B1-2.0.zip" data-dist-info-metadata="sha256=${H}" data-yanked="bad &amp; broken">demo+1-2.0.zip</a>
      <a>no href</a>
    </body></html>`);
    expect(parseProjectPage(html, PAGE)).toEqual([
      { filename: 'demo-1.0.tar.gz', url: 'https://index.example/packages/demo-1.0.tar.gz', sha256: H, requiresPython: '>=3.8', metadataSha256: undefined, yanked: undefined },
      { filename: 'demo-1.1-py3-none-any.whl', url: 'https://files.example/x/demo-1.1-py3-none-any.whl', sha256: undefined, requiresPython: undefined, metadataSha256: true, yanked: true },
      { filename: 'demo+1-2.0.zip', url: 'https://index.example/simple/demo/demo%2B1-2.0.zip', sha256: undefined, requiresPython: undefined, metadataSha256: H, yanked: 'bad & broken' },
    ]);
  });

  it('reads PEP 691 JSON', () => {
    const json = Buffer.from(
      JSON.stringify({
        meta: { 'api-version': '1.1' },
        name: 'demo',
        files: [
          { filename: 'demo-1.0.tar.gz', url: '../../p/demo-1.0.tar.gz', hashes: { sha256: H.toUpperCase() }, 'requires-python': '>=3', 'core-metadata': { sha256: H }, size: 12, 'upload-time': '2024-01-02T03:04:05.123456Z', yanked: 'oops' },
          { filename: 'demo-0.9.tar.gz', url: 'https://x.example/demo-0.9.tar.gz', hashes: {}, 'dist-info-metadata': true },
          { filename: 'demo-0.8.tar.gz', url: 'https://x.example/demo-0.8.tar.gz', hashes: {}, 'core-metadata': { sha512: 'ab' } },
          { filename: 'demo-0.7.tar.gz', url: 'https://x.example/demo-0.7.tar.gz', hashes: {}, 'core-metadata': false, 'dist-info-metadata': true },
          { filename: 42, url: 'bad' },
        ],
      }),
    );
    const files = parseProjectPage(json, PAGE);
    expect(files).toHaveLength(4);
    expect(files[0]).toEqual({
      filename: 'demo-1.0.tar.gz',
      url: 'https://index.example/p/demo-1.0.tar.gz',
      sha256: H,
      requiresPython: '>=3',
      metadataSha256: H,
      yanked: 'oops',
      size: 12,
      uploaded: Date.parse('2024-01-02T03:04:05.123Z'),
    });
    expect(files[1]).toMatchObject({ sha256: undefined, metadataSha256: true, yanked: undefined });
    // Another hash only says the metadata exists; the new key wins over the legacy one (PEP 714).
    expect(files[2].metadataSha256).toBe(true);
    expect(files[3].metadataSha256).toBeUndefined();
  });

  it('keeps only http(s) and relative links, however another scheme is spelled', () => {
    const bad = [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      ' \u0001javascript:alert(1)',
      'java&#x09;script:alert(1)',
      'java&#10;script:alert(1)',
      '&#x6A;avascript:alert(1)',
      '&#106;&#97;vascript:alert(1)',
      'javascript&colon;alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      'ftp://files.example/demo-9.0.tar.gz',
      'https://user:pw@files.example/demo-8.0.tar.gz',
    ];
    const html = Buffer.from(
      bad.map((h, i) => `<a href="${h.replace(/"/g, '&quot;')}">demo-${i}.0.tar.gz</a>`).join('\n') +
        `<a href="../../packages/demo-1.0.tar.gz">demo-1.0.tar.gz</a><a href='HTTPS://files.example/demo-2.0.tar.gz'>x</a>`,
    );
    const files = parseProjectPage(html, PAGE);
    // '&colon;' is not decoded (not an entity this reader knows), so it stays a relative path below the page.
    for (const f of files) expect(new URL(f.url).protocol).toMatch(/^https?:$/);
    expect(files.map((f) => f.url)).toEqual([
      'https://index.example/simple/demo/javascript&colon;alert(1)',
      'https://index.example/packages/demo-1.0.tar.gz',
      'https://files.example/demo-2.0.tar.gz',
    ]);
    const json = Buffer.from(JSON.stringify({ files: bad.map((url, i) => ({ filename: `demo-${i}.0.tar.gz`, url, hashes: {} })) }));
    // JSON strings are not HTML: entities stay as written, and what is left is a relative path (or dropped).
    const fromJson = parseProjectPage(json, PAGE);
    for (const f of fromJson) expect(f.url.startsWith('https://index.example/simple/demo/')).toBe(true);
    expect(fromJson.map((f) => f.filename)).toEqual(['demo-3.0.tar.gz', 'demo-4.0.tar.gz', 'demo-5.0.tar.gz', 'demo-6.0.tar.gz', 'demo-7.0.tar.gz']);
  });

  it('reads root pages in both formats', () => {
    expect(parseRootPage(Buffer.from('<a href="/simple/a/">A_b</a><a href="/simple/c/">c</a>'))).toEqual(['A_b', 'c']);
    expect(parseRootPage(Buffer.from(' {"meta":{"api-version":"1.0"},"projects":[{"name":"x"},{"name":3}]}'))).toEqual(['x']);
    expect(() => parseRootPage(Buffer.from('{broken'))).toThrow();
  });

  it('decodes HTML entities', () => {
    expect(decodeEntities('&lt;&gt;&amp;&quot;&#39;&#x41;&#66;&unknown;')).toBe(`<>&"'AB&unknown;`);
  });
});
