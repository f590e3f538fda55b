import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ContentStore } from '../content/content-store.js';
import type { Clock } from '../core/clock.js';
import type { Database } from '../db/database.js';
import type { AppContext } from '../http/app-context.js';
import type { ErrorRenderer } from '../http/error-renderers.js';
import type { ArtifactService } from '../services/artifacts.js';
import type { PackageServices } from '../services/remote/package-services.js';
import type { RepositoryService } from '../services/repositories.js';
import type { FormatHandler } from './format-handler.js';

/**
 * One package format, as the typed registry (`formats/registry.ts`) lists it: its handler
 * (deploy hooks, path kinds, metadata merging; used by the shared services for every
 * repository of its package types) and, for a format with a client protocol of its own
 * (npm, PyPI, the OCI registry), its routes.
 *
 * A format whose clients only GET and PUT files (generic, Maven) has no protocol: the JFrog
 * REST API (`/artifactory/{repo}/{path}`) serves it through the handler alone.
 */
export interface FormatModule<S = unknown> {
  /** The slice's name, its folder under `src/formats/`. */
  readonly name: string;
  readonly handler: FormatHandler;
  /**
   * Builds the format's own service (its stores and use cases), once per node: the composition
   * root calls it and keeps the result in `ctx.formatServices`; the protocol's routes get it.
   */
  service?(deps: FormatServiceDeps): S;
  readonly protocol?: FormatProtocol<S>;
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
}

/** The services of the formats that have one, built once by the composition root. */
export class FormatServices {
  private readonly byFormat = new Map<FormatModule<unknown>, unknown>();

  constructor(formats: readonly FormatModule[], deps: FormatServiceDeps) {
    for (const f of formats) if (f.service) this.byFormat.set(f, f.service(deps));
  }

  /** The service of `format`; throws for a format without one (a wiring mistake). */
  of<S>(format: FormatModule<S>): S {
    if (!this.byFormat.has(format)) throw new Error(`Format '${format.name}' has no service on this node`);
    return this.byFormat.get(format) as S;
  }

  /** The service of `format`, or undefined when the format has none. */
  find<S>(format: FormatModule<S>): S | undefined {
    return this.byFormat.get(format) as S | undefined;
  }
}

/**
 * The HTTP side of a format. The app registers each protocol in a Fastify scope of its own,
 * so its body parsing, hooks and error shape never leak onto other routes.
 */
export interface FormatProtocol<S = unknown> {
  /**
   * URL prefixes of every route the protocol registers (`/artifactory/api/npm/`); a route
   * outside them is refused when the app is built, so two formats cannot claim one URL by
   * accident and the JFrog REST API keeps its paths.
   */
  readonly prefixes: readonly string[];
  /** Registers the routes in the protocol's scope, with the format's service. Routes parse, call, reply. */
  routes(app: FastifyInstance, ctx: AppContext, service: S): Promise<void> | void;
  /** The body shape of its errors; status, code and headers come from the one error mapper. */
  readonly errors: ErrorRenderer;
  /** The challenges of a 401 in place of the Basic realm (the registry's Bearer and Basic). */
  challenge?(ctx: AppContext): (request: FastifyRequest) => Promise<string[]>;
}
