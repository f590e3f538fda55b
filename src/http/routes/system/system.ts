import type { FastifyInstance, FastifyReply } from 'fastify';
import YAML from 'yaml';
import { ArcaError } from '../../../core/errors.js';
import { exposition } from '../../../metrics/registry.js';
import { masterKeyFingerprint } from '../../../core/secrets.js';
import type { Settings } from '../../../services/system-settings.js';
import type { AppContext } from '../../app-context.js';
import { requireAdmin, requireAuthenticated } from '../../auth.js';

const PUBLIC = { config: { public: true } };
/** Changes are for administrators, checked before the body is read (route-access.ts). */
const ADMIN = { config: { access: 'admin' as const } };

async function readiness(ctx: AppContext, reply: FastifyReply) {
  const problem = !ctx.state.ready ? 'starting' : ctx.state.draining ? 'draining' : await ctx.health.problem();
  if (problem) return reply.code(503).send({ code: 'UNAVAILABLE', message: problem });
  return { code: 'OK' };
}

function settingsXml(s: Settings): string {
  const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<config xmlns="http://artifactory.jfrog.org/xsd/3.1.0">
    <urlBase>${esc(s.urlBase)}</urlBase>
    <security>
        <anonAccessEnabled>${s.anonAccessEnabled}</anonAccessEnabled>
        <hideUnauthorizedResources>${s.hideUnauthorizedResources}</hideUnauthorizedResources>
    </security>
    <trashcanConfig>
        <enabled>${s.trashcanEnabled}</enabled>
        <allowPermDeletes>${s.trashcanAllowPermDeletes}</allowPermDeletes>
        <retentionPeriodDays>${s.trashcanRetentionPeriodDays}</retentionPeriodDays>
    </trashcanConfig>
</config>
`;
}

/** Applies a YAML patch in the shape of the seed's configuration YAML. */
export function settingsFromYaml(text: string): Partial<Settings> {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new ArcaError('BAD_REQUEST', `Invalid YAML: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object') throw new ArcaError('BAD_REQUEST', 'The configuration patch must be a YAML mapping');
  const d = doc as Record<string, unknown>;
  const patch: Partial<Settings> = {};
  const known = new Set(['urlBase', 'security', 'trashcanConfig']);
  for (const k of Object.keys(d)) if (!known.has(k)) throw new ArcaError('BAD_REQUEST', `Unsupported configuration key '${k}'`);
  if (d.urlBase !== undefined) {
    if (typeof d.urlBase !== 'string') throw new ArcaError('BAD_REQUEST', "'urlBase' must be a string");
    patch.urlBase = d.urlBase;
  }
  if (d.security !== undefined) {
    const sec = d.security as Record<string, unknown>;
    if (sec === null || typeof sec !== 'object') throw new ArcaError('BAD_REQUEST', "'security' must be a mapping");
    for (const [k, v] of Object.entries(sec)) {
      if (k !== 'anonAccessEnabled' && k !== 'hideUnauthorizedResources') throw new ArcaError('BAD_REQUEST', `Unsupported configuration key 'security.${k}'`);
      if (typeof v !== 'boolean') throw new ArcaError('BAD_REQUEST', `'security.${k}' must be true or false`);
      patch[k] = v;
    }
  }
  if (d.trashcanConfig !== undefined) Object.assign(patch, trashcanFromYaml(d.trashcanConfig));
  return patch;
}

/** `trashcanConfig: {enabled, allowPermDeletes, retentionPeriodDays}`, the seed's block. */
function trashcanFromYaml(value: unknown): Partial<Settings> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ArcaError('BAD_REQUEST', "'trashcanConfig' must be a mapping");
  const patch: Partial<Settings> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'enabled' || k === 'allowPermDeletes') {
      if (typeof v !== 'boolean') throw new ArcaError('BAD_REQUEST', `'trashcanConfig.${k}' must be true or false`);
      patch[k === 'enabled' ? 'trashcanEnabled' : 'trashcanAllowPermDeletes'] = v;
    } else if (k === 'retentionPeriodDays') {
      if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 36500) {
        throw new ArcaError('BAD_REQUEST', "'trashcanConfig.retentionPeriodDays' must be a whole number of days from 1 to 36500");
      }
      patch.trashcanRetentionPeriodDays = v as number;
    } else throw new ArcaError('BAD_REQUEST', `Unsupported configuration key 'trashcanConfig.${k}'`);
  }
  return patch;
}

/** Ping, version, health probes, metrics and the configuration descriptor (REST-API.md §5). */
export async function systemRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  for (const t of ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'application/xml', 'text/xml']) {
    app.addContentTypeParser(t, { parseAs: 'string' }, (_req, body, done) => done(null, body));
  }

  app.get('/artifactory/api/system/ping', PUBLIC, async (_request, reply) => {
    // A node that needs a license and has none still serves (so licenses can be added through
    // it); only ping, which monitors watch, says so. Readiness, which balancers probe, does not.
    const problem = (await ctx.health.problem()) ?? ctx.licenses.problem();
    reply.type('text/plain');
    if (problem) return reply.code(503).send(problem);
    return 'OK';
  });

  app.get('/artifactory/api/system/version', async () => ({
    version: ctx.node.version.version,
    revision: ctx.node.version.revision,
    addons: ['arca', 'ha', 'rest'],
    ...(ctx.licenses.status().hash ? { license: ctx.licenses.status().hash } : {}),
  }));

  for (const prefix of ['/artifactory/api/v1/system', '/router/api/v1/system']) {
    app.get(`${prefix}/liveness`, PUBLIC, async () => ({ code: 'OK' }));
    app.get(`${prefix}/readiness`, PUBLIC, (_request, reply) => readiness(ctx, reply));
  }
  app.get('/router/api/v1/system/health', PUBLIC, (_request, reply) => readiness(ctx, reply));

  app.get('/artifactory/api/v1/metrics', async (request, reply) => {
    await requireAdmin(ctx, request);
    const snapshot = await ctx.collectMetrics();
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(exposition(snapshot));
  });

  app.get('/artifactory/api/system/configuration', async (request, reply) => {
    await requireAdmin(ctx, request);
    return reply.type('application/xml').send(settingsXml(await ctx.settings.get()));
  });

  app.patch('/artifactory/api/system/configuration', ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    if (typeof request.body !== 'string') throw new ArcaError('BAD_REQUEST', 'Send the patch as application/yaml');
    await ctx.settings.update(settingsFromYaml(request.body));
    return reply.type('text/plain').send('Configuration updated successfully');
  });

  app.put('/artifactory/api/system/configuration/baseUrl', ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    const url = typeof request.body === 'string' ? request.body.trim() : '';
    if (url !== '' && !/^https?:\/\/[^\s]+$/.test(url)) throw new ArcaError('BAD_REQUEST', `Invalid URL base '${url}'`);
    await ctx.settings.update({ urlBase: url });
    return reply.type('text/plain').send(`URL base has been updated successfully to '${url}'`);
  });

  app.get('/artifactory/api/system/status', async (request) => {
    await requireAdmin(ctx, request);
    return { nodes: await ctx.registry.list(), masterKeyFingerprint: masterKeyFingerprint(ctx.masterKey) };
  });

  // The JFrog CLI and IDE plugins report which of their features ran. Arca keeps none of it:
  // the report is taken (from an authenticated caller, at most 64 KiB) and dropped.
  app.post('/artifactory/api/system/usage', { config: { access: 'authenticated' as const }, bodyLimit: 64 * 1024 }, async (_request, reply) => reply.code(200).send());

  // The CLI asks before an upload whether multipart uploads are supported; they are not, so
  // it sends each file in one PUT.
  app.get('/artifactory/api/v1/uploads/config', async (request) => {
    requireAuthenticated(request);
    return { supported: false };
  });

  // Storage summary (admin): served from the last calculation, which runs in the background.
  app.get('/artifactory/api/storageinfo', async (request) => {
    await requireAdmin(ctx, request);
    return ctx.storageInfo.summary();
  });
  app.post('/artifactory/api/storageinfo/calculate', ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    void ctx.storageInfo.calculate().catch((err) => ctx.log.warn({ err }, 'storage info calculation failed'));
    return reply.code(202).type('text/plain').send('Calculation started');
  });

  app.post('/artifactory/api/system/storage/gc', ADMIN, async (request) => {
    await requireAdmin(ctx, request);
    return ctx.runGc();
  });
}
