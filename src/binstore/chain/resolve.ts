import { elementParams, type BinarystoreDocument, type XmlElement } from '../../config/binarystore.js';
import { ConfigError } from '../../core/errors.js';
import { canonicalType, CATALOG, specOf } from './catalog.js';
import { TEMPLATES, UNSUPPORTED_TEMPLATES, type TemplateNode } from './templates.js';
import type { ProviderNode } from './types.js';

type Tag = 'provider' | 'sub-provider' | 'dynamic-provider';

/** A chain element before defaults: where it came from and what the file and template set. */
interface Draft {
  tag: Tag;
  id: string;
  type: string;
  fromTemplate: Map<string, string>;
  fromFile: Map<string, string>;
  child?: Draft;
  subs: Draft[];
  dynamic?: Draft;
}

export interface ResolveOptions {
  /** The node's data dir: fills `baseDataDir` (shown by `arca binarystore show`); the builder falls back to its own. */
  dataDir?: string;
}

export interface ResolvedChain {
  file: string;
  /** `<chain template>`, when the chain is a template. */
  template?: string;
  root: ProviderNode;
  /** Problems that do not stop start-up (unknown parameters, overrides of ids not in the chain). */
  warnings: string[];
}

const describe = (tag: string, id: string | undefined, type: string | undefined) =>
  `<${tag}${id !== undefined ? ` id="${id}"` : ''}${type !== undefined ? ` type="${type}"` : ''}>`;
const describeEl = (el: XmlElement) => describe(el.name, el.attrs.id, el.attrs.type);
const describeDraft = (d: Draft) => describe(d.tag, d.id, d.type);

function fromTemplate(t: TemplateNode, tag: Tag): Draft {
  return {
    tag,
    id: t.id,
    type: t.type,
    fromTemplate: new Map(Object.entries(t.params ?? {})),
    fromFile: new Map(),
    child: t.child && fromTemplate(t.child, 'provider'),
    subs: (t.subs ?? []).map((s) => fromTemplate(s, 'sub-provider')),
    dynamic: t.dynamic && fromTemplate(t.dynamic, 'dynamic-provider'),
  };
}

function fromElement(el: XmlElement, fail: (where: string, msg: string) => never): Draft {
  const type = el.attrs.type;
  if (!type) fail(describeEl(el), 'the type attribute is required');
  const nested = el.children.filter((c) => c.name === 'provider');
  const dynamics = el.children.filter((c) => c.name === 'dynamic-provider');
  if (nested.length > 1) fail(describeEl(el), `a provider wraps one provider, found ${nested.length} nested <provider> elements`);
  if (dynamics.length > 1) fail(describeEl(el), `only one <dynamic-provider> is allowed, found ${dynamics.length}`);
  return {
    tag: el.name as Tag,
    id: el.attrs.id ?? type,
    type,
    fromTemplate: new Map(),
    fromFile: elementParams(el),
    child: nested[0] && fromElement(nested[0], fail),
    subs: el.children.filter((c) => c.name === 'sub-provider').map((c) => fromElement(c, fail)),
    dynamic: dynamics[0] && fromElement(dynamics[0], fail),
  };
}

function* walk(d: Draft): Generator<Draft> {
  yield d;
  if (d.child) yield* walk(d.child);
  for (const s of d.subs) yield* walk(s);
  if (d.dynamic) yield* walk(d.dynamic);
}

/**
 * Turns binarystore.xml into the chain to build: the template's tree or the explicit one,
 * top-level `<provider id>` overrides applied by id, every catalogued default filled in and
 * the shape of every element checked. Throws ConfigError naming the file and the element.
 */
export function resolveChain(doc: BinarystoreDocument, options: ResolveOptions = {}): ResolvedChain {
  const file = doc.file;
  const warnings: string[] = [];
  const fail: (where: string, msg: string) => never = (where, msg) => {
    throw new ConfigError(`${file}: ${where}: ${msg}`);
  };

  const template = doc.chain.attrs.template;
  const chainProviders = doc.chain.children.filter((c) => c.name === 'provider');
  for (const c of doc.chain.children) {
    if (c.name !== 'provider') fail(describeEl(doc.chain), `<${c.name}> is not allowed directly in <chain>; it holds one <provider>`);
  }
  let root: Draft;
  if (template !== undefined) {
    if (chainProviders.length > 0) fail(`<chain template="${template}">`, 'a chain names a template or holds providers, not both');
    if (UNSUPPORTED_TEMPLATES[template]) fail(`<chain template="${template}">`, `this template is not supported: ${UNSUPPORTED_TEMPLATES[template]}`);
    const t = TEMPLATES[template];
    if (!t) fail(`<chain template="${template}">`, `unknown template (known: ${Object.keys(TEMPLATES).join(', ')})`);
    root = fromTemplate(t, 'provider');
  } else {
    if (chainProviders.length !== 1) fail('<chain>', `give a template attribute or exactly one <provider>, found ${chainProviders.length}`);
    root = fromElement(chainProviders[0], fail);
  }

  const byId = new Map<string, Draft>();
  for (const d of walk(root)) {
    if (byId.has(d.id)) fail(describeDraft(d), `the id '${d.id}' is used twice in the chain`);
    byId.set(d.id, d);
  }

  for (const el of doc.providers) {
    const id = el.attrs.id;
    if (!id) fail(describeEl(el), 'the id attribute is required: it names the chain provider whose parameters this element sets');
    if (el.children.some((c) => c.name === 'provider' || c.name === 'sub-provider' || c.name === 'dynamic-provider')) {
      fail(describeEl(el), 'providers outside <chain> only set parameters; nest providers inside <chain>');
    }
    const target = byId.get(id);
    if (!target) {
      warnings.push(`${file}: ${describeEl(el)}: the chain has no provider with id '${id}'; its parameters are ignored`);
      continue;
    }
    const declared = el.attrs.type;
    if (declared !== undefined && (canonicalType(declared) ?? declared) !== (canonicalType(target.type) ?? target.type)) {
      fail(describeEl(el), `the chain's provider '${id}' has type '${target.type}'`);
    }
    for (const [k, v] of elementParams(el)) target.fromFile.set(k, v);
  }
  for (const el of doc.others) warnings.push(`${file}: <${el.name}> is not a binarystore.xml element; ignored`);

  const finish = (d: Draft): ProviderNode => {
    const where = describeDraft(d);
    const spec = specOf(d.type);
    if (!spec) fail(where, `unknown provider type '${d.type}' (known: ${CATALOG.map((s) => s.type).join(', ')})`);
    const kind = `a ${spec.type} provider`;
    if (spec.shape === 'wrapper') {
      if (!d.child) fail(where, `${kind} wraps exactly one provider: nest a <provider> inside it`);
    } else if (d.child) {
      fail(where, `${kind} does not wrap a provider (found ${describeDraft(d.child)})`);
    }
    if (spec.shape === 'sharding') {
      if (d.subs.length === 0) fail(where, `${kind} needs at least one <sub-provider>`);
    } else if (d.subs.length > 0) {
      fail(where, `only sharding providers have <sub-provider> elements`);
    }
    if (d.dynamic) {
      if (spec.type !== 'sharding-cluster') fail(where, 'only a sharding-cluster provider has a <dynamic-provider>');
      if (canonicalType(d.dynamic.type) !== 'remote') fail(describeDraft(d.dynamic), "a dynamic provider must be of type 'remote'");
    } else if (spec.type === 'sharding-cluster') {
      fail(where, `${kind} needs a <dynamic-provider type="remote"> (one is created per live peer)`);
    }

    const params: Record<string, string> = {};
    for (const ps of spec.params) {
      if (ps.default !== undefined) params[ps.name] = ps.default;
      else if (ps.defaultFrom === 'dataDir' && options.dataDir !== undefined) params[ps.name] = options.dataDir;
    }
    for (const [k, v] of d.fromTemplate) params[k] = v;
    for (const [k, v] of d.fromFile) params[k] = v;
    const known = new Set(spec.params.map((ps) => ps.name));
    for (const k of d.fromFile.keys()) {
      if (!known.has(k)) warnings.push(`${file}: ${where}: unknown parameter '${k}' for type ${spec.type}; ignored`);
    }
    for (const ps of spec.params) {
      if (ps.required && !params[ps.name]) fail(where, `${ps.name} is required`);
    }
    return {
      id: d.id,
      type: spec.type,
      params,
      explicit: [...d.fromFile.keys()],
      templateSet: [...d.fromTemplate.keys()].filter((k) => !d.fromFile.has(k)),
      child: d.child && finish(d.child),
      subProviders: d.subs.map(finish),
      dynamic: d.dynamic && finish(d.dynamic),
    };
  };
  return { file, template, root: finish(root), warnings };
}
