import { specOf } from './catalog.js';
import type { ProviderRegistry } from './provider-registry.js';
import type { ResolvedChain } from './resolve.js';
import type { ProviderNode } from './types.js';

/** Where an effective parameter value comes from. */
export type ParamSource = 'file' | 'template' | 'default' | 'data dir';

export interface ShownParam {
  name: string;
  value: string;
  source: ParamSource;
  /** Set in the file but not a parameter of this type (kept, unused by Arca). */
  unknown?: boolean;
}

export interface ShownProvider {
  id: string;
  type: string;
  /** How the element nests: the root and wrapped providers, shards, the per-peer remote. */
  role: 'provider' | 'sub-provider' | 'dynamic-provider';
  /** Whether this build can instantiate the type (false: start-up fails naming it). */
  available: boolean;
  params: ShownParam[];
  child?: ShownProvider;
  subProviders: ShownProvider[];
  dynamic?: ShownProvider;
}

export interface ShownChain {
  file: string;
  template?: string;
  root: ShownProvider;
  warnings: string[];
}

/** Secrets are shown as set or not, never printed. */
const SECRET = /^(credential|accountKey|proxyCredential)$/;
const redact = (name: string, value: string) => (SECRET.test(name) && value !== '' ? '********' : value);

function showNode(node: ProviderNode, role: ShownProvider['role'], registry: ProviderRegistry): ShownProvider {
  const spec = specOf(node.type);
  const catalogued = spec?.params ?? [];
  const explicit = new Set(node.explicit);
  const template = new Set(node.templateSet ?? []);
  const sourceOf = (name: string): ParamSource => {
    if (explicit.has(name)) return 'file';
    if (template.has(name)) return 'template';
    return catalogued.find((p) => p.name === name)?.defaultFrom === 'dataDir' ? 'data dir' : 'default';
  };
  const params: ShownParam[] = [];
  for (const p of catalogued) {
    const value = node.params[p.name];
    if (value !== undefined) params.push({ name: p.name, value: redact(p.name, value), source: sourceOf(p.name) });
  }
  const known = new Set(catalogued.map((p) => p.name));
  for (const [name, value] of Object.entries(node.params)) {
    if (!known.has(name)) params.push({ name, value: redact(name, value), source: sourceOf(name), unknown: true });
  }
  return {
    id: node.id,
    type: node.type,
    role,
    available: registry.has(node.type),
    params,
    child: node.child && showNode(node.child, 'provider', registry),
    subProviders: node.subProviders.map((s) => showNode(s, 'sub-provider', registry)),
    dynamic: node.dynamic && showNode(node.dynamic, 'dynamic-provider', registry),
  };
}

/** The resolved chain with every effective parameter and where it comes from (`arca binarystore show --json`). */
export function showChain(chain: ResolvedChain, registry: ProviderRegistry): ShownChain {
  return { file: chain.file, template: chain.template, root: showNode(chain.root, 'provider', registry), warnings: chain.warnings };
}

const SOURCE_LABEL: Record<ParamSource, string> = {
  file: 'set in file',
  template: 'set by template',
  default: 'default',
  'data dir': "default: the node's data dir",
};

function lines(p: ShownProvider, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  const role = p.role === 'provider' ? '' : `${p.role} `;
  const extra = [p.role === 'dynamic-provider' ? 'one per live peer' : '', p.available ? '' : 'NOT AVAILABLE in this build'].filter(Boolean);
  out.push(`${pad}${role}${p.id} (${p.type})${extra.length ? ` [${extra.join('; ')}]` : ''}`);
  for (const param of p.params) {
    out.push(`${pad}    ${param.name} = ${param.value} (${SOURCE_LABEL[param.source]}${param.unknown ? '; unknown parameter, ignored' : ''})`);
  }
  if (p.child) lines(p.child, depth + 1, out);
  for (const s of p.subProviders) lines(s, depth + 1, out);
  if (p.dynamic) lines(p.dynamic, depth + 1, out);
}

/** The chain as text, indented by nesting (`arca binarystore show`). */
export function formatChain(shown: ShownChain): string {
  const out = [`${shown.file}: ${shown.template ? `template ${shown.template}` : 'explicit chain'}`, ''];
  lines(shown.root, 0, out);
  if (shown.warnings.length) out.push('', ...shown.warnings.map((w) => `warning: ${w}`));
  return out.join('\n') + '\n';
}
