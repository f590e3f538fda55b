import { describe, expect, it } from 'vitest';
import { buildProjectPage, type StoredFile } from './project-page.js';
import { projectHtml, projectJson, rootHtml, rootJson } from './simple-index.js';
import { PROPERTY } from './upload.js';

const sha = (c: string) => c.repeat(64);
const files: StoredFile[] = [
  { path: 'friendly-bard/1.0/friendly_bard-1.0-py3-none-any.whl', name: 'friendly_bard-1.0-py3-none-any.whl', sha256: sha('a'), size: 10, created: Date.UTC(2024, 0, 2), properties: { [PROPERTY.requiresPython]: ['>=3.8,<4'] } },
  { path: 'friendly-bard/1.0/friendly_bard-1.0-py3-none-any.whl.metadata', name: 'friendly_bard-1.0-py3-none-any.whl.metadata', sha256: sha('b'), size: 3, created: 0, properties: {} },
  { path: 'friendly-bard/1.0/friendly_bard-1.0.tar.gz', name: 'friendly_bard-1.0.tar.gz', sha256: sha('c'), size: 20, created: Date.UTC(2024, 0, 3), properties: {} },
  { path: 'friendly-bard/2.0/Friendly.Bard-2.0.tar.gz', name: 'Friendly.Bard-2.0.tar.gz', sha256: sha('d'), size: 30, created: 0, properties: {} },
  { path: 'friendly-bard/2.0/notes.txt', name: 'notes.txt', sha256: sha('e'), size: 1, created: 0, properties: {} },
  { path: 'friendly-bard/2.0/other-2.0.tar.gz', name: 'other-2.0.tar.gz', sha256: sha('f'), size: 1, created: 0, properties: {} },
];
const page = buildProjectPage('friendly-bard', files, (p) => `../../packages/${p}`)!;

describe('project page', () => {
  it('lists the project distribution files only, with metadata where a sibling exists', () => {
    expect(page.files.map((f) => f.filename)).toEqual(['Friendly.Bard-2.0.tar.gz', 'friendly_bard-1.0-py3-none-any.whl', 'friendly_bard-1.0.tar.gz']);
    expect(page.files[1]).toMatchObject({ metadataSha256: sha('b'), requiresPython: '>=3.8,<4', size: 10 });
    expect(page.files[2].metadataSha256).toBeUndefined();
    expect(page.versions.sort()).toEqual(['1.0', '2.0']);
    expect(buildProjectPage('nothing', files, (p) => p)).toBeUndefined();
  });

  it('renders PEP 503 HTML with hashes, escaped requires-python and metadata attributes', () => {
    const html = projectHtml(page);
    expect(html).toContain('<meta name="pypi:repository-version" content="1.1">');
    expect(html).toContain(
      `<a href="../../packages/friendly-bard/1.0/friendly_bard-1.0-py3-none-any.whl#sha256=${sha('a')}" data-requires-python="&gt;=3.8,&lt;4" data-core-metadata="sha256=${sha('b')}">friendly_bard-1.0-py3-none-any.whl</a>`,
    );
    expect(html).toContain(`<a href="../../packages/friendly-bard/1.0/friendly_bard-1.0.tar.gz#sha256=${sha('c')}">friendly_bard-1.0.tar.gz</a>`);
  });

  it('renders PEP 691 JSON (api 1.1)', () => {
    const json = JSON.parse(projectJson(page));
    expect(json.meta).toEqual({ 'api-version': '1.1' });
    expect(json.name).toBe('friendly-bard');
    expect(json.files[1]).toEqual({
      filename: 'friendly_bard-1.0-py3-none-any.whl',
      url: '../../packages/friendly-bard/1.0/friendly_bard-1.0-py3-none-any.whl',
      hashes: { sha256: sha('a') },
      'requires-python': '>=3.8,<4',
      'core-metadata': { sha256: sha('b') },
      size: 10,
      'upload-time': '2024-01-02T00:00:00.000Z',
      yanked: false,
    });
    // PEP 691: the key is optional; a file without served metadata has none.
    expect(Object.keys(json.files[2])).not.toContain('core-metadata');
    // PEP 714: never the legacy name, which pip 22.3 to 23.1 cannot parse.
    expect(projectJson(page)).not.toContain('dist-info-metadata');
    expect(projectHtml(page)).not.toContain('dist-info-metadata');
  });

  it('offers metadata without a known hash as true, in both formats', () => {
    const unhashed = { name: 'demo', versions: ['1.0'], files: [{ filename: 'demo-1.0-py3-none-any.whl', url: 'x.whl', metadataSha256: true as const }] };
    expect(JSON.parse(projectJson(unhashed)).files[0]['core-metadata']).toBe(true);
    expect(projectHtml(unhashed)).toContain('<a href="x.whl" data-core-metadata="true">');
  });

  it('renders the root index in both formats', () => {
    expect(rootHtml(['a-b', 'c'])).toContain('<a href="a-b/">a-b</a><br/>');
    expect(JSON.parse(rootJson(['a-b', 'c']))).toEqual({ meta: { 'api-version': '1.1' }, projects: [{ name: 'a-b' }, { name: 'c' }] });
  });
});
