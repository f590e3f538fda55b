import type { FormatHandler } from './format-handler.js';
import { genericHandler } from './generic/generic-handler.js';
import { mavenHandler } from './maven/maven-handler.js';
import { pypiHandler } from './pypi/pypi-handler.js';
import { npmHandler } from './npm/npm-handler.js';
import { dockerHandler } from './docker/docker-handler.js';

/**
 * Every format handler, as a typed list (no loading by name). A new format adds its handler
 * here; package types without a handler of their own behave as generic repositories.
 */
export const FORMAT_HANDLERS: readonly FormatHandler[] = [genericHandler, mavenHandler, pypiHandler, npmHandler, dockerHandler];

const byType = new Map<string, FormatHandler>();
for (const h of FORMAT_HANDLERS) {
  for (const t of h.packageTypes) {
    if (byType.has(t)) throw new Error(`Two format handlers claim package type '${t}'`);
    byType.set(t, h);
  }
}

/** The handler of a package type (lower case); generic when the type has none. */
export function formatHandlerFor(packageType: string): FormatHandler {
  return byType.get(packageType.toLowerCase()) ?? genericHandler;
}
