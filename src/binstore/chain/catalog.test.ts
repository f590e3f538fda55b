import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalType, CATALOG, specOf, TYPE_ALIASES } from './catalog.js';
import { providerRegistry } from './provider-registry.js';
import { TEMPLATES, type TemplateNode } from './templates.js';

const docs = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
const section = docs.slice(docs.indexOf('## etc/binarystore.xml'), docs.indexOf('## etc/artifactory.system.properties'));

describe('provider catalogue', () => {
  it('lists each type once, each parameter once per type, and resolves aliases', () => {
    expect(new Set(CATALOG.map((s) => s.type)).size).toBe(CATALOG.length);
    for (const s of CATALOG) expect(new Set(s.params.map((p) => p.name)).size, s.type).toBe(s.params.length);
    for (const [alias, type] of Object.entries(TYPE_ALIASES)) expect(specOf(alias)?.type).toBe(type);
    expect(canonicalType('floppy')).toBeUndefined();
  });

  it('marks the required parameters of the cloud providers', () => {
    const required = Object.fromEntries(CATALOG.map((s) => [s.type, s.params.filter((p) => p.required).map((p) => p.name)]));
    expect(required).toMatchObject({
      's3-storage-v3': ['bucketName'],
      'google-storage-v2': ['bucketName'],
      'azure-blob-storage': ['accountName', 'accountKey', 'containerName'],
      'file-system': [],
    });
  });

  it('registers only catalogued types', () => {
    for (const type of providerRegistry().keys()) expect(specOf(type)?.type, type).toBe(type);
  });

  it('uses only catalogued types in the templates', () => {
    const types = (n: TemplateNode): string[] => [n.type, ...(n.child ? types(n.child) : []), ...(n.subs ?? []).flatMap(types), ...(n.dynamic ? types(n.dynamic) : [])];
    for (const [name, t] of Object.entries(TEMPLATES)) for (const type of types(t)) expect(specOf(type), `${name}: ${type}`).toBeDefined();
  });

  it('is documented in docs/configuration.md, every parameter with its default', () => {
    const missing: string[] = [];
    for (const s of CATALOG) {
      const start = section.indexOf(`#### \`${s.type}\``);
      if (start < 0) {
        missing.push(`#### \`${s.type}\``);
        continue;
      }
      const next = section.indexOf('#### ', start + 5);
      const table = section.slice(start, next < 0 ? undefined : next);
      for (const p of s.params) {
        const d = p.required ? '**required**' : p.default !== undefined ? `\`${p.default}\`` : p.defaultFrom === 'dataDir' ? 'node data dir' : '—';
        const row = `| \`${p.name}\` | ${d} |`;
        if (!table.includes(row)) missing.push(`${s.type}: ${row}`);
      }
    }
    expect(missing, 'rows missing from the binarystore.xml section of docs/configuration.md').toEqual([]);
  });
});
