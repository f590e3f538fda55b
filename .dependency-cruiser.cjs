/**
 * Fences: the import rules of ../shared/DESIGN.md ("Layers"), checked on every `npm test` by
 * test/architecture/fences.test.ts (and by hand with `npm run fences`). docs/architecture.md
 * ("Fences") says why each rule exists.
 *
 * Floors, top to bottom (a folder imports only folders below it):
 *   cli → node → http → formats → services → security → cluster | content → binstore | db → config → core
 * metrics/ (a plain Prometheus registry) sits beside core. Tests (`*.test.ts`) and test
 * support (`testing/` folders) are not fenced by the floors, only by the testing rules.
 *
 * Every import breaks at most one rule: where a dedicated rule covers an edge (a format
 * slice, the registry, db/content from the edge, testing), the floor rule leaves it out.
 */

/** Tests and test support (not part of the shipped code). */
const NOT_SHIPPED = ['\\.test\\.tsx?$', '(^|/)testing/'];
const TESTING = '(^|/)testing/';

/** A format slice `src/formats/<name>/` (the shared test suites in formats/testing are not one); $1 is its name. */
const SLICE = '^src/formats/(?!testing/)([^/]+)/';
const ANY_SLICE = '^src/formats/(?!testing/)[^/]+/';
const SLICE_ROUTES = '^src/formats/[^/]+/routes/';
/** The files of a slice that may use the shared services: `*-service(s).ts` or a `service/` folder. */
const SLICE_SERVICES = ['^src/formats/[^/]+/.*-services?\\.ts$', '^src/formats/[^/]+/service/', '^src/formats/[^/]+/.*/service/'];
const REGISTRY = '^src/formats/registry\\.ts$';
/** What the shared services may know of formats: the handler contract and the lookup by package type. */
const FORMAT_CONTRACT = '^src/formats/format-handlers?\\.ts$';

/** Edges a dedicated rule reports, left out of the floor rules so nothing is reported twice. */
const DEDICATED = [ANY_SLICE, REGISTRY, TESTING];

/** Each folder of src/ and the folders below it that it may import. */
const FLOORS = {
  core: [],
  metrics: ['core'],
  config: ['core'],
  db: ['config', 'metrics', 'core'],
  binstore: ['config', 'metrics', 'core'],
  cluster: ['db', 'binstore', 'config', 'metrics', 'core'],
  content: ['db', 'binstore', 'config', 'metrics', 'core'],
  security: ['cluster', 'db', 'binstore', 'config', 'metrics', 'core'],
  services: ['security', 'cluster', 'content', 'db', 'binstore', 'config', 'metrics', 'core'],
  // routes/ use http/ helpers; the slices' own rules narrow this per kind of file (pure, service, routes).
  formats: ['http', 'services', 'security', 'cluster', 'content', 'db', 'binstore', 'config', 'metrics', 'core'],
  // formats/: the registry (app.ts) and the contracts; slices are fenced by their own rules.
  http: ['formats', 'services', 'security', 'cluster', 'binstore', 'config', 'metrics', 'core'],
  node: ['http', 'formats', 'services', 'security', 'cluster', 'content', 'db', 'binstore', 'config', 'metrics', 'core'],
  cli: ['node', 'http', 'formats', 'services', 'security', 'cluster', 'content', 'db', 'binstore', 'config', 'metrics', 'core'],
};
/**
 * Per floor, more imports the floor rule leaves out: files a floor may import although their
 * folder sits above it, and edges a dedicated rule reports.
 */
const FLOOR_EXCEPTIONS = {
  services: [FORMAT_CONTRACT],
  http: ['^src/(db|content)/'], // routes-never-touch-db-or-content
};

const floorRules = Object.entries(FLOORS).map(([floor, below]) => ({
  name: `floor-${floor}`,
  comment: `${floor}/ imports only ${below.length ? below.join(', ') : 'nothing of ours'} (DESIGN.md "Layers")`,
  severity: 'error',
  from: { path: `^src/${floor}/`, pathNot: NOT_SHIPPED },
  to: { path: '^src/', pathNot: [`^src/(${[floor, ...below].join('|')})/`, ...(FLOOR_EXCEPTIONS[floor] ?? []), ...DEDICATED] },
}));

module.exports = {
  forbidden: [
    ...floorRules,
    {
      name: 'formats-not-above-http-app',
      comment: 'formats/ may use http/ helpers (routes, error renderers) but never the app that registers the formats',
      severity: 'error',
      from: { path: '^src/formats/', pathNot: NOT_SHIPPED },
      to: { path: '^src/http/app\\.ts$' },
    },
    {
      name: 'known-folders',
      comment: 'every file of src/ lives in a folder the floors know (give a new folder its floor first)',
      severity: 'error',
      from: { path: '^src/', pathNot: [`^src/(${[...Object.keys(FLOORS), 'ui'].join('|')})/`, ...NOT_SHIPPED] },
      to: { path: '.' },
    },
    {
      name: 'routes-never-touch-db-or-content',
      comment: 'routes parse, call a service, reply: the database and the content store are reached through services',
      severity: 'error',
      from: { path: ['^src/http/', SLICE_ROUTES], pathNot: NOT_SHIPPED },
      to: { path: '^src/(db|content)/' },
    },
    {
      name: 'format-slice-private',
      comment: 'outside formats/ a slice is reached through the registry (http/app.ts), the handler contract, or the composition root (node/: the OCI GC task), never directly',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/formats/', '^src/node/', ...NOT_SHIPPED] },
      to: { path: ANY_SLICE },
    },
    {
      name: 'format-slices-apart',
      comment: 'one format slice never imports another (formats/testing is shared test support)',
      severity: 'error',
      from: { path: SLICE, pathNot: NOT_SHIPPED },
      to: { path: ANY_SLICE, pathNot: '^src/formats/$1/' },
    },
    {
      name: 'format-pure-files',
      comment: 'handler, parsers and index of a slice import only core/, the format contract and their own slice; services only from *-service(s).ts or service/, HTTP only from routes/',
      severity: 'error',
      from: { path: SLICE, pathNot: [SLICE_ROUTES, ...SLICE_SERVICES, ...NOT_SHIPPED] },
      to: {
        path: '^src/',
        pathNot: ['^src/core/', '^src/formats/format-(handler|module)\\.ts$', '^src/(node|cli|ui)/', '^src/http/app\\.ts$', ...DEDICATED],
      },
    },
    {
      name: 'format-services-no-http',
      comment: "a slice's service is protocol-free: no src/http/, no routes (fastify is fenced by fastify-at-the-edge)",
      severity: 'error',
      from: { path: SLICE_SERVICES.map((p) => p.replace('^src/formats/[^/]+/', SLICE)), pathNot: NOT_SHIPPED },
      to: { path: ['^src/http/', '^src/formats/$1/routes/'], pathNot: '^src/http/app\\.ts$' },
    },
    {
      name: 'format-contract-pure',
      comment: 'the handler contract (and its lookup) sits under the services that call it: it imports core/ only',
      severity: 'error',
      from: { path: FORMAT_CONTRACT },
      to: { path: '^src/', pathNot: ['^src/core/', FORMAT_CONTRACT] },
    },
    {
      name: 'format-registry-at-the-top',
      comment: 'the typed list of formats is read by the composition root (node/) and the app (http/app.ts) only; the rest is given what it needs',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/node/', '^src/http/app\\.ts$', ...NOT_SHIPPED] },
      to: { path: REGISTRY },
    },
    {
      name: 'fastify-at-the-edge',
      comment: 'fastify only in http/, formats/*/routes/, the format module contract, node/ and cli/',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/(http|node|cli)/', SLICE_ROUTES, '^src/formats/format-module\\.ts$', ...NOT_SHIPPED] },
      to: { path: '(^|/)node_modules/(fastify|@fastify/)' },
    },
    {
      name: 'testing-never-imports-test',
      comment: 'test support in src/ stands alone: test/ may import src/**/testing, never the reverse',
      severity: 'error',
      from: { path: TESTING },
      to: { path: '^test/' },
    },
    {
      name: 'testing-stays-in-tests',
      comment: 'shipped code never imports test support',
      severity: 'error',
      from: { path: '^src/', pathNot: NOT_SHIPPED },
      to: { path: TESTING },
    },
    {
      name: 'ui-apart',
      comment: 'the web UI is browser code built by Vite: it imports nothing of the server (and no floor may import it)',
      severity: 'error',
      from: { path: '^src/ui/' },
      to: { path: '^src/', pathNot: '^src/ui/' },
    },
    {
      name: 'no-circular',
      comment: 'no import cycles in shipped code (type-only imports count: a cycle of types is a cycle of concepts)',
      severity: 'error',
      from: { path: '^src/', pathNot: NOT_SHIPPED },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'every import resolves (an unresolved import would slip past every rule above)',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.test\\.tsx?$' },
    doNotFollow: { path: ['(^|/)node_modules/', '^test/'] },
    moduleSystems: ['es6', 'cjs'],
    // node_modules may be a symbolic link (a shared install); report packages by their place in it.
    preserveSymlinks: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
