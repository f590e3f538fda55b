import type { ContentStore } from '../content/content-store.js';
import type { Clock } from '../core/clock.js';
import type { Database } from '../db/database.js';
import type { ArtifactService } from '../services/artifacts.js';
import type { PackageServices } from '../services/remote/package-services.js';
import type { RepositoryService } from '../services/repositories.js';
import type { SigningKeys } from '../security/signing/signer.js';
import type { ItemRow } from '../db/items.js';
import type { Access } from '../security/access.js';
import type { FormatReads } from './format-handler.js';

/** A format as far as its service goes (a `FormatModule` is one). */
export interface ServiceSource<S> {
  readonly name: string;
  /**
   * Builds the format's own service (its stores and use cases), once per node: the composition
   * root calls it and keeps the result in `ctx.formatServices`; the protocol's routes get it.
   */
  service?(deps: FormatServiceDeps): S;
}

/** What every format's service is built from (the same for every format). */
export interface FormatServiceDeps {
  database: Database;
  content: ContentStore;
  clock: Clock;
  repos: RepositoryService;
  artifacts: ArtifactService;
  /** Proxying, virtual resolution and deploy with format hooks, shared by every format. */
  packages: PackageServices;
  /** OpenPGP keys that sign repository metadata (Debian, RPM) and check upstream signatures. */
  signing: SigningKeys;
}

/** A format as far as its reads go (a `FormatModule` is one). */
export interface FormatReadSource extends ServiceSource<unknown> {
  readonly handler: { readonly packageTypes: readonly string[] };
  reads?(service: unknown): FormatReads<Access, ItemRow>;
}

/** The services of the formats that have one, built once by the composition root. */
export class FormatServices {
  private readonly byFormat = new Map<ServiceSource<unknown>, unknown>();

  constructor(formats: readonly ServiceSource<unknown>[], deps: FormatServiceDeps) {
    for (const f of formats) if (f.service) this.byFormat.set(f, f.service(deps));
  }

  /** The service of `format`; throws for a format without one (a wiring mistake). */
  of<S>(format: ServiceSource<S>): S {
    if (!this.byFormat.has(format)) throw new Error(`Format '${format.name}' has no service on this node`);
    return this.byFormat.get(format) as S;
  }

  /**
   * The reads each format's service answers itself (FormatModule.reads), by package type, for
   * the serve service; undefined for package types without.
   */
  reads(formats: readonly FormatReadSource[]): (packageType: string) => FormatReads<Access, ItemRow> | undefined {
    const byType = new Map<string, FormatReads<Access, ItemRow>>();
    for (const f of formats) {
      if (!f.reads) continue;
      const reads = f.reads(this.find(f));
      for (const t of f.handler.packageTypes) byType.set(t, reads);
    }
    return (packageType) => byType.get(packageType.toLowerCase());
  }

  /** The service of `format`, or undefined when the format has none. */
  find<S>(format: ServiceSource<S>): S | undefined {
    return this.byFormat.get(format) as S | undefined;
  }
}

