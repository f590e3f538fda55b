import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../http/app-context.js';
import type { ErrorRenderer } from '../http/error-renderers.js';
import type { ItemRow } from '../db/items.js';
import type { Access } from '../security/access.js';
import type { FormatHandler, FormatReads } from './format-handler.js';
import type { ServiceSource } from './format-services.js';

/**
 * One package format, as the typed registry (`formats/registry.ts`) lists it: its handler
 * (deploy hooks, path kinds, metadata merging; used by the shared services for every
 * repository of its package types) and, for a format with a client protocol of its own
 * (npm, PyPI, the OCI registry), its routes.
 *
 * A format whose clients only GET and PUT files (generic, Maven) has no protocol: the JFrog
 * REST API (`/artifactory/{repo}/{path}`) serves it through the handler alone.
 */
export interface FormatModule<S = unknown> extends ServiceSource<S> {
  /** The slice's name, its folder under `src/formats/`. */
  readonly name: string;
  readonly handler: FormatHandler;
  readonly protocol?: FormatProtocol<S>;
  /**
   * Reads of `/artifactory/{repo}/{path}` the format's service answers itself (metadata a
   * remote or virtual repository makes, signatures made when read), built once per node from
   * the service; other paths are read as stored files.
   */
  reads?(service: S): FormatReads<Access, ItemRow>;
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
  /** Protocol URLs that read a local repository's stored file as it is (see `StoredFileUrls`). */
  readonly storedFiles?: StoredFileUrls;
}

/**
 * Protocol URLs that name a stored file of a local repository as it is (a Go module's
 * `.zip`): the download fast path (http/fast-get.ts) answers them as it answers
 * `/artifactory/{repo}/{path}`, and leaves every other case (remote and virtual
 * repositories, a file the routes make, a refusal, a HEAD) to the protocol's routes.
 */
export interface StoredFileUrls {
  /** What comes before `{repoKey}/` (`/artifactory/api/go/`); one of the protocol's prefixes. */
  readonly prefix: string;
  /** The package type the repository must have (the routes word the error for others). */
  readonly packageType: string;
  /** The item path that `rest` (the URL after `{repoKey}/`) reads, when it reads one stored file as it is. */
  itemPath(rest: string): string | undefined;
}
