import { ArcaError } from '../core/errors.js';
import { invalidField, requireObject, type Body } from './validation.js';

/** Actions of the v2 JSON. The last two are stored and returned but grant nothing here. */
export const V2_ACTIONS = ['read', 'write', 'annotate', 'delete', 'manage', 'managedXrayMeta', 'distribute'] as const;
export type V2Action = (typeof V2_ACTIONS)[number];

/** v1 action letters (REST-API.md §6) and the v2 action each stands for. */
export const V1_LETTERS: Record<string, V2Action> = { r: 'read', w: 'write', n: 'annotate', d: 'delete', m: 'manage' };
const LETTER_OF = Object.fromEntries(Object.entries(V1_LETTERS).map(([l, a]) => [a, l])) as Record<string, string>;

export const PSEUDO_REPOS = ['ANY', 'ANY LOCAL', 'ANY REMOTE'] as const;
export const SECTIONS = ['repo', 'build', 'releaseBundle'] as const;
export type SectionName = (typeof SECTIONS)[number];

export interface PrincipalActions {
  users: Record<string, V2Action[]>;
  groups: Record<string, V2Action[]>;
}

export interface PermissionSection {
  'include-patterns': string[];
  'exclude-patterns': string[];
  repositories: string[];
  actions: PrincipalActions;
}

/** The stored (canonical) form of a permission target. */
export interface PermissionTarget {
  name: string;
  repo?: PermissionSection;
  build?: PermissionSection;
  releaseBundle?: PermissionSection;
}

export interface PermissionTargetV1 {
  name: string;
  includesPattern: string;
  excludesPattern: string;
  repositories: string[];
  principals: { users: Record<string, string[]>; groups: Record<string, string[]> };
}

const WHAT = 'permission target';
const TARGET_NAME = /^[^/\\\u0000-\u001f\u007f]{1,255}$/;

export function checkTargetName(name: string): string {
  if (!TARGET_NAME.test(name) || name.trim() !== name) {
    throw invalidField(WHAT, 'name', 'must be 1 to 255 characters without slashes or surrounding spaces');
  }
  return name;
}

function stringList(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidField(WHAT, field, 'must be an array of strings');
  return [...new Set((v as string[]).map((s) => s.trim()).filter((s) => s !== ''))];
}

function actionMap(v: unknown, field: string, parseOne: (a: unknown, f: string) => V2Action): Record<string, V2Action[]> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidField(WHAT, field, 'must be an object of name to actions');
  const out: Record<string, V2Action[]> = {};
  for (const [who, list] of Object.entries(v as Body)) {
    const f = `${field}.${who}`;
    if (who === '' || !Array.isArray(list)) throw invalidField(WHAT, f, 'must be an array of actions');
    const actions = [...new Set(list.map((a) => parseOne(a, f)))];
    if (actions.length > 0) out[who] = V2_ACTIONS.filter((a) => actions.includes(a));
  }
  return out;
}

function v2Action(a: unknown, field: string): V2Action {
  if (typeof a !== 'string' || !(V2_ACTIONS as readonly string[]).includes(a)) {
    throw invalidField(WHAT, field, `has an unknown action ${JSON.stringify(a)} (expected one of ${V2_ACTIONS.join(', ')})`);
  }
  return a as V2Action;
}

function v1Letter(a: unknown, field: string): V2Action {
  if (typeof a !== 'string' || !(a in V1_LETTERS)) {
    throw invalidField(WHAT, field, `has an unknown action ${JSON.stringify(a)} (expected letters r, w, n, d, m)`);
  }
  return V1_LETTERS[a];
}

function section(v: unknown, field: SectionName): PermissionSection {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalidField(WHAT, field, 'must be an object');
  const s = v as Body;
  const include = stringList(s['include-patterns'], `${field}.include-patterns`);
  const actions = s.actions === undefined || s.actions === null ? {} : s.actions;
  if (typeof actions !== 'object' || Array.isArray(actions)) throw invalidField(WHAT, `${field}.actions`, 'must be an object');
  const a = actions as Body;
  return {
    'include-patterns': include.length > 0 ? include : ['**'],
    'exclude-patterns': stringList(s['exclude-patterns'], `${field}.exclude-patterns`),
    repositories: stringList(s.repositories, `${field}.repositories`),
    actions: {
      users: actionMap(a.users, `${field}.actions.users`, v2Action),
      groups: actionMap(a.groups, `${field}.actions.groups`, v2Action),
    },
  };
}

/** Validates a v2 body for the target `name` (from the URL). */
export function parseV2(body: unknown, name: string): PermissionTarget {
  const b = requireObject(body, WHAT);
  checkTargetName(name);
  if (b.name !== undefined && b.name !== name) throw invalidField(WHAT, 'name', `must match the name in the URL ('${name}')`);
  const out: PermissionTarget = { name };
  for (const s of SECTIONS) if (b[s] !== undefined && b[s] !== null) out[s] = section(b[s], s);
  return out;
}

function splitPatterns(v: unknown, field: string, dflt: string[]): string[] {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string') throw invalidField(WHAT, field, 'must be a comma-separated string of patterns');
  const list = [...new Set(v.split(',').map((p) => p.trim()).filter((p) => p !== ''))];
  return list.length > 0 ? list : dflt;
}

/** Validates a v1 body and converts it to the canonical form (a repo section only). */
export function parseV1(body: unknown, name: string): PermissionTarget {
  const b = requireObject(body, WHAT);
  checkTargetName(name);
  if (b.name !== undefined && b.name !== name) throw invalidField(WHAT, 'name', `must match the name in the URL ('${name}')`);
  const principals = b.principals ?? {};
  if (principals === null || typeof principals !== 'object' || Array.isArray(principals)) throw invalidField(WHAT, 'principals', 'must be an object');
  const p = principals as Body;
  return {
    name,
    repo: {
      'include-patterns': splitPatterns(b.includesPattern, 'includesPattern', ['**']),
      'exclude-patterns': splitPatterns(b.excludesPattern, 'excludesPattern', []),
      repositories: stringList(b.repositories, 'repositories'),
      actions: {
        users: actionMap(p.users, 'principals.users', v1Letter),
        groups: actionMap(p.groups, 'principals.groups', v1Letter),
      },
    },
  };
}

function letters(map: Record<string, V2Action[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [who, actions] of Object.entries(map)) {
    const l = actions.map((a) => LETTER_OF[a]).filter((x) => x !== undefined);
    if (l.length > 0) out[who] = l;
  }
  return out;
}

/** The v1 view of a stored target: its repo section, with actions v1 cannot express left out. */
export function toV1(t: PermissionTarget): PermissionTargetV1 {
  const s = t.repo;
  return {
    name: t.name,
    includesPattern: s ? s['include-patterns'].join(',') : '**',
    excludesPattern: s ? s['exclude-patterns'].join(',') : '',
    repositories: s ? s.repositories : [],
    principals: { users: s ? letters(s.actions.users) : {}, groups: s ? letters(s.actions.groups) : {} },
  };
}

/** Reads a stored row's JSON; a corrupt row is an internal error naming the target. */
export function fromStored(name: string, json: string): PermissionTarget {
  try {
    return JSON.parse(json) as PermissionTarget;
  } catch (err) {
    throw new ArcaError('INTERNAL', `Stored permission target '${name}' is not valid JSON`, undefined, err);
  }
}
