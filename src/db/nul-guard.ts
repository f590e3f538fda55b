import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { ArcaError } from '../core/errors.js';

/**
 * Refuses a query that carries a NUL character in any string it sends (a name, a path, a
 * search term, a user name from credentials). PostgreSQL text cannot hold NUL and fails the
 * statement; SQLite and MySQL would store it. So request text with a NUL is a BAD_REQUEST on
 * every dialect, before the statement runs, wherever in the code it reached a query.
 */
export class NulGuardPlugin implements KyselyPlugin {
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (holdsNul(args.node)) throw new ArcaError('BAD_REQUEST', 'NUL characters are not allowed in names, paths or values');
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

function holdsNul(node: unknown): boolean {
  if (typeof node === 'string') return node.includes('\u0000');
  if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node) || node instanceof Date) return false;
  if (Array.isArray(node)) return node.some(holdsNul);
  for (const value of Object.values(node)) if (holdsNul(value)) return true;
  return false;
}
