import { describe, expect, it } from 'vitest';
import { applyPackumentUpdate, applyPublish, checkDeleteRevision, mergeDistTags, removeDistTag, removeVersions, setDistTag } from './document.js';
import { renderAbbreviated, renderFull, wantsAbbreviated, type PackageDocument } from './packument.js';
import { matchDocument, parseSearchQuery, searchPage } from './search.js';
import { packPackage, publishBody, publishRequestSync } from './testing/pack.js';

const T0 = '2024-01-01T00:00:00.000Z';
const T1 = '2024-01-02T00:00:00.000Z';

function pub(name: string, version: string, extra: Record<string, unknown> = {}, tag?: string) {
  return publishRequestSync(publishBody(packPackage({ name, version, ...extra }), { tag }), name);
}

function docWith(...versions: string[]): PackageDocument {
  let doc: PackageDocument | undefined;
  for (const v of versions) doc = applyPublish(doc, pub('demo', v, { description: `demo ${v}`, keywords: ['tools', 'demo'], author: 'Ann <ann@x.org>' }), { name: 'alice' }, T0);
  return doc!;
}

describe('package document', () => {
  it('publishes versions, tracks latest, time, maintainers and revisions', () => {
    const one = docWith('1.0.0');
    expect(one['dist-tags']).toEqual({ latest: '1.0.0' });
    expect(one.time).toEqual({ created: T0, modified: T0, '1.0.0': T0 });
    // The npm registry records every maintainer with an e-mail; unknown is the empty string.
    expect(one.maintainers).toEqual([{ name: 'alice', email: '' }]);
    expect(one._rev).toMatch(/^1-[0-9a-f]{32}$/);
    const two = applyPublish(one, pub('demo', '2.0.0-rc.1', {}, 'next'), { name: 'bob', email: 'bob@example.com' }, T1);
    expect(two['dist-tags']).toEqual({ latest: '1.0.0', next: '2.0.0-rc.1' });
    expect(two._rev).toMatch(/^2-/);
    expect(two.versions['2.0.0-rc.1']._npmUser).toEqual({ name: 'bob', email: 'bob@example.com' });
    expect(two.maintainers).toEqual([{ name: 'alice', email: '' }, { name: 'bob', email: 'bob@example.com' }]);
    // A maintainer whose e-mail became known gets it on their next publish.
    const three = applyPublish(two, pub('demo', '3.0.0'), { name: 'alice', email: 'alice@example.com' }, T1);
    expect(three.maintainers?.[0]).toEqual({ name: 'alice', email: 'alice@example.com' });
    expect(one.versions['2.0.0-rc.1']).toBeUndefined();
  });

  it('sets latest on the first publish even under another tag', () => {
    expect(applyPublish(undefined, pub('demo', '0.1.0', {}, 'beta'), { name: 'a' }, T0)['dist-tags']).toEqual({ beta: '0.1.0', latest: '0.1.0' });
  });

  it('never publishes over an existing version', () => {
    expect(() => applyPublish(docWith('1.0.0'), pub('demo', '1.0.0'), { name: 'a' }, T1)).toThrow('cannot publish over the previously published version 1.0.0');
  });

  it('adds, merges and removes dist-tags on existing versions only', () => {
    const doc = docWith('1.0.0', '1.1.0');
    expect(setDistTag(doc, 'stable', '1.0.0', T1)['dist-tags']).toEqual({ latest: '1.1.0', stable: '1.0.0' });
    expect(() => setDistTag(doc, 'stable', '9.9.9', T1)).toThrow('does not exist');
    expect(() => setDistTag(doc, 'stable', 1, T1)).toThrow('JSON string');
    expect(() => setDistTag(doc, '2.x', '1.0.0', T1)).toThrow('semver range');
    expect(mergeDistTags(doc, { a: '1.0.0', b: '1.1.0' }, T1)['dist-tags']).toEqual({ latest: '1.1.0', a: '1.0.0', b: '1.1.0' });
    const tagged = setDistTag(doc, 'old', '1.0.0', T1);
    expect(removeDistTag(tagged, 'old', T1)['dist-tags']).toEqual({ latest: '1.1.0' });
    expect(() => removeDistTag(tagged, 'latest', T1)).toThrow("'latest' dist-tag");
    expect(() => removeDistTag(tagged, 'nope', T1)).toThrow("no dist-tag 'nope'");
  });

  it('deprecates and undeprecates through a packument PUT, changing nothing else', () => {
    const doc = docWith('1.0.0', '1.1.0');
    const sent = JSON.parse(JSON.stringify(doc));
    sent.versions['1.0.0'].deprecated = 'use 1.1';
    sent.versions['1.0.0'].main = 'evil.js';
    sent['dist-tags'] = { latest: '1.0.0' };
    const dep = applyPackumentUpdate(doc, sent, T1).doc;
    expect(dep.versions['1.0.0'].deprecated).toBe('use 1.1');
    expect(dep.versions['1.0.0'].main).toBeUndefined();
    expect(dep['dist-tags']).toEqual({ latest: '1.1.0' });
    const again = JSON.parse(JSON.stringify(dep));
    again.versions['1.0.0'].deprecated = '';
    expect(applyPackumentUpdate(dep, again, T1).doc.versions['1.0.0'].deprecated).toBeUndefined();
    expect(() => applyPackumentUpdate(doc, { ...sent, versions: { '3.0.0': {} } }, T1)).toThrow('does not exist');
    expect(() => applyPackumentUpdate(doc, { ...sent, name: 'other' }, T1)).toThrow('does not match');
  });

  it('unpublishes a version through PUT /-rev/{rev}, moving latest and dropping its tags', () => {
    let doc = docWith('1.0.0', '1.1.0');
    doc = setDistTag(doc, 'pinned', '1.1.0', T1);
    const sent = JSON.parse(JSON.stringify(doc));
    delete sent.versions['1.1.0'];
    delete sent['dist-tags'].pinned;
    sent['dist-tags'].latest = '1.0.0';
    const { doc: next, removed } = applyPackumentUpdate(doc, sent, T1, doc._rev);
    expect(removed).toEqual(['1.1.0']);
    expect(Object.keys(next.versions)).toEqual(['1.0.0']);
    expect(next['dist-tags']).toEqual({ latest: '1.0.0' });
    expect(next.time['1.1.0']).toBeUndefined();
    expect(() => applyPackumentUpdate(doc, sent, T1, '1-stale')).toThrow('Document update conflict');
    expect(() => checkDeleteRevision(doc, 'x')).toThrow('not the current one');
  });

  it('removes versions by tarball and repairs latest', () => {
    const doc = removeVersions(docWith('1.0.0', '1.1.0', '2.0.0'), ['2.0.0'], T1);
    expect(doc['dist-tags'].latest).toBe('1.1.0');
  });
});

describe('packument rendering', () => {
  const doc = docWith('1.0.0', '1.1.0');
  const reg = 'http://arca.example/artifactory/api/npm/npm-local/';

  it('serves absolute tarball URLs and hoists fields from latest', () => {
    const full = renderFull(doc, reg) as PackageDocument;
    expect(full.versions['1.0.0'].dist.tarball).toBe(`${reg}demo/-/demo-1.0.0.tgz`);
    expect(full.description).toBe('demo 1.1.0');
    expect(full.keywords).toEqual(['tools', 'demo']);
    expect(doc.versions['1.0.0'].dist.tarball).toBe('demo/-/demo-1.0.0.tgz');
  });

  it('serves every maintainer and _npmUser with an e-mail, also from documents stored without one', () => {
    const old: PackageDocument = { ...doc, maintainers: [{ name: 'alice' }], versions: { '1.0.0': { ...doc.versions['1.0.0'], _npmUser: { name: 'alice' }, maintainers: [{ name: 'alice' }] } } };
    const full = renderFull(old, reg) as PackageDocument;
    expect(full.maintainers).toEqual([{ name: 'alice', email: '' }]);
    expect(full.versions['1.0.0']._npmUser).toEqual({ name: 'alice', email: '' });
    expect(full.versions['1.0.0'].maintainers).toEqual([{ name: 'alice', email: '' }]);
    expect(JSON.stringify(full)).not.toContain('undefined');
  });

  it('abbreviates to the install fields', () => {
    const dep = applyPackumentUpdate(doc, { versions: { '1.0.0': { deprecated: 'old' } } }, T1).doc;
    const small = renderAbbreviated(dep, reg) as { versions: Record<string, Record<string, unknown>> };
    expect(Object.keys(small).sort()).toEqual(['dist-tags', 'modified', 'name', 'versions']);
    expect(Object.keys(small.versions['1.0.0']).sort()).toEqual(['deprecated', 'dist', 'name', 'version']);
    expect((small.versions['1.1.0'].dist as { tarball: string }).tarball).toBe(`${reg}demo/-/demo-1.1.0.tgz`);
  });

  it('reads the Accept header as npm sends it', () => {
    expect(wantsAbbreviated('application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*')).toBe(true);
    expect(wantsAbbreviated('application/json')).toBe(false);
    expect(wantsAbbreviated('application/vnd.npm.install-v1+json;q=0.5, application/json')).toBe(false);
    expect(wantsAbbreviated(undefined)).toBe(false);
  });
});

describe('search', () => {
  const docs = [
    docWith('1.0.0'),
    applyPublish(undefined, pub('@acme/demo-kit', '2.0.0', { description: 'kit', keywords: ['demo'] }), { name: 'bob' }, T0),
    applyPublish(undefined, pub('unrelated', '1.0.0', { description: 'something' }), { name: 'carol' }, T0),
  ];
  const run = (text: string, extra: Record<string, string> = {}) => {
    const q = parseSearchQuery({ text, ...extra });
    return searchPage(docs.map((d) => matchDocument(d, q, `http://x/${d.name}`)).filter((m) => m !== undefined), q);
  };

  it('ranks an exact name first and reports what npm prints', () => {
    const r = run('demo');
    expect(r.total).toBe(2);
    expect(r.objects.map((o) => o.package.name)).toEqual(['demo', '@acme/demo-kit']);
    expect(r.objects[0].package).toMatchObject({ version: '1.0.0', publisher: { username: 'alice' }, maintainers: [{ username: 'alice', email: '' }], date: T0 });
  });

  it('filters by qualifiers and pages', () => {
    expect(run('scope:acme').objects.map((o) => o.package.name)).toEqual(['@acme/demo-kit']);
    expect(run('keywords:tools').objects.map((o) => o.package.name)).toEqual(['demo']);
    expect(run('maintainer:carol').objects.map((o) => o.package.name)).toEqual(['unrelated']);
    expect(run('author:ann').objects.map((o) => o.package.name)).toEqual(['demo']);
    expect(run('', { size: '1', from: '1' })).toMatchObject({ total: 3, objects: [{ package: { name: 'demo' } }] });
    expect(run('nomatch').total).toBe(0);
  });
});
