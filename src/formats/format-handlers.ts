import type { FormatHandler } from './format-handler.js';

/**
 * The format handlers by package type, given to the services that deploy, proxy and serve
 * (built once by the composition root from the registry). Package types without a handler of
 * their own behave as generic repositories.
 */
export class FormatHandlers {
  private readonly byType = new Map<string, FormatHandler>();

  constructor(
    handlers: readonly FormatHandler[],
    private readonly fallback: FormatHandler,
  ) {
    for (const h of handlers) {
      for (const t of h.packageTypes) {
        if (this.byType.has(t)) throw new Error(`Two format handlers claim package type '${t}'`);
        this.byType.set(t, h);
      }
    }
  }

  /** The handler of a package type (any case); the fallback (generic) when the type has none. */
  handlerFor(packageType: string): FormatHandler {
    return this.byType.get(packageType.toLowerCase()) ?? this.fallback;
  }
}
