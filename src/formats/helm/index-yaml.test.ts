import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { entryOf, indexBlocks, mergeIndexes, parseIndex, renderBlock, renderEntries, renderIndex, rewriteUrls, sortEntries, spliceIndex, type IndexEntry } from './index-yaml.js';

const entry = (name: string, version: string, extra: Record<string, unknown> = {}): IndexEntry =>
  entryOf({ apiVersion: 'v2', name, version, ...extra }, { url: `${name}-${version}.tgz`, digest: `d-${name}-${version}`, created: '2026-01-02T03:04:05.678Z' });

describe('index.yaml', () => {
  it('renders entries as Helm reads them, keys sorted, YAML 1.1 lookalikes quoted', () => {
    const text = renderIndex([['web', renderBlock('web', [entry('web', '1.0.0', { appVersion: '1.10', description: 'yes', annotations: { notes: 'line 1\n\nline 3' } })])]], '2026-02-03T00:00:00.000Z');
    const doc = parse(text, { version: '1.1' }) as Record<string, unknown>;
    expect(doc).toEqual({
      apiVersion: 'v1',
      entries: {
        web: [
          {
            annotations: { notes: 'line 1\n\nline 3' },
            apiVersion: 'v2',
            appVersion: '1.10',
            created: '2026-01-02T03:04:05.678Z',
            description: 'yes',
            digest: 'd-web-1.0.0',
            name: 'web',
            urls: ['web-1.0.0.tgz'],
            version: '1.0.0',
          },
        ],
      },
      generated: '2026-02-03T00:00:00.000Z',
    });
    expect(Object.keys((doc.entries as Record<string, Record<string, unknown>[]>).web[0])).toEqual([...Object.keys((doc.entries as Record<string, Record<string, unknown>[]>).web[0])].sort());
  });

  // PyYAML reads YAML 1.1 as Helm's go-yaml does (`yes`, `on`, `1.10`, timestamps are typed there).
  const pyyaml = spawnSync('python3', ['-c', 'import yaml'], { stdio: 'ignore' }).status === 0;
  if (!pyyaml) console.warn('[skip] YAML 1.1 cross-check: python3 with PyYAML is not installed');
  it.skipIf(!pyyaml)('is read with the same values by a YAML 1.1 reader (PyYAML)', () => {
    const tricky = entry('yes', '1.0.0', { appVersion: '1.10', description: 'on', keywords: ['no', 'null', '0x10', '1e3', '~', '2026-01-01'], annotations: { notes: 'a\n\nb: c' }, deprecated: true });
    const text = renderIndex([['yes', renderBlock('yes', [tricky])], ['true', renderBlock('true', [entry('true', '2.0.0')])]], '2026-02-03T04:05:06.789Z');
    const out = spawnSync('python3', ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read()), default=str))'], { input: text, encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual(parse(text, { version: '1.1' }));
    expect(JSON.parse(out.stdout).entries.yes[0]).toMatchObject({ appVersion: '1.10', description: 'on', deprecated: true, created: '2026-01-02T03:04:05.678Z' });
  });

  it('writes an empty index helm can load', () => {
    expect(parse(renderEntries(new Map(), '1970-01-01T00:00:00.000Z'))).toEqual({ apiVersion: 'v1', entries: {}, generated: '1970-01-01T00:00:00.000Z' });
  });

  it('sorts versions newest first', () => {
    expect(sortEntries([entry('a', '1.0.0'), entry('a', '1.10.0'), entry('a', '1.2.0-rc.1'), entry('a', '1.2.0')]).map((e) => e.version)).toEqual(['1.10.0', '1.2.0', '1.2.0-rc.1', '1.0.0']);
  });

  it('replaces, adds and removes one chart block, leaving the others as they were', () => {
    const a = renderBlock('alpha', [entry('alpha', '1.0.0')]);
    const c = renderBlock('charlie', [entry('charlie', '2.0.0', { description: 'multi\nline' })]);
    const first = renderIndex([['charlie', c], ['alpha', a]], '2026-01-01T00:00:00.000Z');
    expect([...indexBlocks(first)!.keys()]).toEqual(['alpha', 'charlie']);

    const b = renderBlock('bravo', [entry('bravo', '0.1.0')]);
    const added = spliceIndex(first, 'bravo', b, '2026-01-02T00:00:00.000Z')!;
    expect(Object.keys((parse(added) as { entries: object }).entries)).toEqual(['alpha', 'bravo', 'charlie']);
    expect(added).toContain(c);

    const a2 = renderBlock('alpha', sortEntries([entry('alpha', '1.0.0'), entry('alpha', '1.1.0')]));
    const replaced = spliceIndex(added, 'alpha', a2, '2026-01-03T00:00:00.000Z')!;
    const doc = parse(replaced) as { entries: Record<string, IndexEntry[]>; generated: string };
    expect(doc.entries.alpha.map((e) => e.version)).toEqual(['1.1.0', '1.0.0']);
    expect(doc.generated).toBe('2026-01-03T00:00:00.000Z');
    expect(replaced).toBe(renderIndex([['alpha', a2], ['bravo', b], ['charlie', c]], '2026-01-03T00:00:00.000Z'));

    const removed = spliceIndex(replaced, 'bravo', undefined, '2026-01-04T00:00:00.000Z')!;
    expect(Object.keys((parse(removed) as { entries: object }).entries)).toEqual(['alpha', 'charlie']);
    const empty = spliceIndex(spliceIndex(removed, 'alpha', undefined, 'x')!, 'charlie', undefined, '2026-01-05T00:00:00.000Z')!;
    expect(parse(empty)).toEqual({ apiVersion: 'v1', entries: {}, generated: '2026-01-05T00:00:00.000Z' });
    expect(spliceIndex(empty, 'delta', renderBlock('delta', [entry('delta', '1.0.0')]), 'y')).toContain('  delta:\n');
  });

  it('keeps chart names that read as other YAML types apart', () => {
    const text = renderIndex([['true', renderBlock('true', [entry('true', '1.0.0')])], ['1.5', renderBlock('1.5', [entry('1.5', '1.0.0')])]], 'g');
    expect([...indexBlocks(text)!.keys()].sort()).toEqual(['1.5', 'true']);
    expect(Object.keys((parse(text, { version: '1.1' }) as { entries: object }).entries).sort()).toEqual(['1.5', 'true']);
  });

  it('does not splice an index laid out by someone else', () => {
    expect(spliceIndex('apiVersion: v1\nentries:\n  a:\n  - name: a\ngenerated: x\n', 'b', undefined, 'g')).toBeUndefined();
    expect(spliceIndex('{"apiVersion":"v1","entries":{}}', 'b', undefined, 'g')).toBeUndefined();
  });

  it('parses any index, keeping scalars as written and Helm booleans typed', () => {
    const { entries, generated } = parseIndex(`apiVersion: v1
entries:
  web:
  - name: web
    version: 1.0.0
    appVersion: 1.10
    deprecated: true
    urls: [https://up.example/charts/web-1.0.0.tgz]
    dependencies: [{name: db, version: 1.x, enabled: true}]
  - name: web
    version: 1.2.0
    urls: [web-1.2.0.tgz]
  - version: 9.9.9
  broken: nope
generated: 2026-01-01T00:00:00Z
`);
    expect(generated).toBe('2026-01-01T00:00:00.000Z');
    expect([...entries.keys()]).toEqual(['web']);
    const web = entries.get('web')!;
    expect(web.map((e) => e.version)).toEqual(['1.2.0', '1.0.0']);
    expect(web[1]).toMatchObject({ appVersion: '1.10', deprecated: true, dependencies: [{ name: 'db', version: '1.x', enabled: true }] });
    expect(parseIndex('{"apiVersion":"v1","entries":{"a":[{"name":"a","version":"1.0.0","urls":["a-1.0.0.tgz"]}]}}').entries.get('a')).toHaveLength(1);
    expect(() => parseIndex('<html>not found</html>')).toThrow(/not a chart repository index/);
  });

  it('merges indexes: first index wins per chart version', () => {
    const first = new Map([['web', [entry('web', '1.0.0', { description: 'local' })]]]);
    const second = new Map([
      ['web', [entry('web', '2.0.0'), entry('web', '1.0.0', { description: 'remote' })]],
      ['db', [entry('db', '0.1.0')]],
    ]);
    const merged = mergeIndexes([first, second]);
    expect([...merged.keys()]).toEqual(['db', 'web']);
    expect(merged.get('web')!.map((e) => [e.version, e.description])).toEqual([
      ['2.0.0', undefined],
      ['1.0.0', 'local'],
    ]);
  });

  it('rewrites chart URLs below the upstream to paths relative to the remote', () => {
    const entries = new Map([
      [
        'web',
        [
          { name: 'web', version: '1', urls: ['https://up.example/helm/repo/web-1.tgz'] },
          { name: 'web', version: '2', urls: ['charts/web-2.tgz'] },
          { name: 'web', version: '3', urls: ['https://cdn.example/web-3.tgz'] },
          { name: 'web', version: '4', urls: ['../other/web-4.tgz'] },
        ] as IndexEntry[],
      ],
    ]);
    expect(rewriteUrls(entries, 'https://up.example/helm/repo').get('web')!.map((e) => e.urls[0])).toEqual([
      'web-1.tgz',
      'charts/web-2.tgz',
      'https://cdn.example/web-3.tgz',
      'https://up.example/helm/other/web-4.tgz',
    ]);
  });
});
