import { ArcaError } from '../core/errors.js';
import type { TreeCursor } from '../db/tree.js';

/**
 * Paging of a folder's children (`?limit=N[&after=token]` on the storage API): a page is at most
 * MAX_PAGE children in name order; `next` in the answer is the opaque token of the page after
 * it. A token is the position of the last child of its page (its name and id), so a page costs
 * the same at any depth into a folder of any size, and children added or removed meanwhile
 * neither shift nor repeat the others.
 */
export interface ListPage {
  limit: number;
  after?: string;
}

/** The largest page a request may ask for; a larger `limit` is cut to it. */
export const MAX_PAGE = 1000;

export function listPage(limit: number | undefined, after: string | undefined): ListPage | undefined {
  if (limit === undefined) {
    if (after !== undefined) throw new ArcaError('BAD_REQUEST', "Query parameter 'after' needs 'limit'");
    return undefined;
  }
  if (limit < 1) throw new ArcaError('BAD_REQUEST', "Query parameter 'limit' must be at least 1");
  return { limit: Math.min(limit, MAX_PAGE), after };
}

export function pageToken(row: { name: string; id: number }): string {
  return Buffer.from(JSON.stringify([Number(row.id), row.name])).toString('base64url');
}

/** The position a token names in `folder`; BAD_REQUEST for anything that is not a token. */
export function parsePageToken(token: string | undefined, folder: string): TreeCursor | undefined {
  if (token === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || value.length !== 2 || !Number.isSafeInteger(value[0]) || typeof value[1] !== 'string') {
    throw new ArcaError('BAD_REQUEST', `Query parameter 'after' is not a page token: '${token}'`);
  }
  return { path: folder, id: value[0] as number, name: value[1] as string };
}
