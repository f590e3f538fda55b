import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { TestNode } from './node-context.js';

export const sha256 = (d: Buffer | string) => createHash('sha256').update(d).digest('hex');

/** Repositories, security, settings, items with properties and binaries (two files share content). */
export async function populate(node: TestNode): Promise<Record<string, Buffer>> {
  const ok = async (p: Promise<{ statusCode: number; body: string }>, url: string) => {
    const res = await p;
    expect(res.statusCode, `${url}: ${res.body}`).toBeLessThan(300);
  };
  for (const key of ['libs-local', 'docs-local']) {
    await ok(node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: 'generic', description: `the ${key}` } }), key);
  }
  await ok(node.request({ method: 'PUT', url: '/artifactory/api/security/users/alice', payload: { password: 'Alice-Pw1', email: 'alice@example.com' } }), 'alice');
  await ok(node.request({ method: 'PUT', url: '/artifactory/api/security/groups/devs', payload: { description: 'developers', userNames: ['alice'] } }), 'devs');
  const target = { name: 'libs', repo: { 'include-patterns': ['**'], repositories: ['libs-local'], actions: { users: { alice: ['read', 'write'] }, groups: { devs: ['read'] } } } };
  await ok(node.request({ method: 'PUT', url: '/artifactory/api/v2/security/permissions/libs', payload: target }), 'permission');
  await ok(node.request({ method: 'PUT', url: '/artifactory/api/system/configuration/baseUrl', payload: 'https://arca.example.com', headers: { 'content-type': 'text/plain' } }), 'baseUrl');
  const files: Record<string, Buffer> = {
    'libs-local/org/app/1.0/app-1.0.jar': randomBytes(200_000),
    'libs-local/org/app/1.0/app-1.0.pom': Buffer.from('<project/>\n'),
    'docs-local/guide/index.html': Buffer.from('<h1>guide</h1>\n'),
  };
  files['docs-local/guide/copy.html'] = files['docs-local/guide/index.html'];
  for (const [path, data] of Object.entries(files)) await ok(node.request({ method: 'PUT', url: `/artifactory/${path}`, payload: data }), path);
  await ok(node.request({ method: 'PUT', url: '/artifactory/api/storage/libs-local/org/app/1.0/app-1.0.jar?properties=build.name=app;build.number=7,8' }), 'props');
  await ok(node.request({ method: 'PUT', url: '/artifactory/api/storage/docs-local/guide?properties=owner=docs' }), 'folder props');
  return files;
}

/** Everything a backup carries, in a comparable form (no generated ids, no binary creation times). */
export async function dump(node: TestNode) {
  const db = node.ctx.database.db;
  const items = (await db.selectFrom('items').selectAll().orderBy('path_key').execute()).map(({ id: _id, ...r }) => r);
  const props = await db
    .selectFrom('item_props')
    .innerJoin('items', 'items.id', 'item_props.item_id')
    .select(['items.path_key', 'item_props.prop_key', 'item_props.prop_value'])
    .orderBy('items.path_key')
    .orderBy('item_props.prop_key')
    .orderBy('item_props.prop_value')
    .execute();
  const sha1s = [...new Set(items.map((i) => i.sha1).filter((s): s is string => s !== null))];
  const binaries = sha1s.length === 0 ? [] : await db.selectFrom('binaries').select(['sha1', 'sha256', 'md5', 'size']).where('sha1', 'in', sha1s).orderBy('sha1').execute();
  const content = await Promise.all(binaries.map(async (b) => sha256(await node.ctx.content.provider.readBuffer(b.sha1))));
  return {
    repositories: await db.selectFrom('repositories').selectAll().orderBy('repo_key').execute(),
    users: await db.selectFrom('users').selectAll().orderBy('name').execute(),
    groups: await db.selectFrom('security_groups').selectAll().orderBy('name').execute(),
    memberships: await db.selectFrom('user_groups').selectAll().orderBy('user_name').execute(),
    permissions: await db.selectFrom('permission_targets').selectAll().orderBy('name').execute(),
    tokens: await db.selectFrom('access_tokens').selectAll().orderBy('token_id').execute(),
    settings: (await db.selectFrom('system_config').selectAll().orderBy('config_key').execute()).filter((r) => !r.config_key.startsWith('cluster.')),
    items,
    props,
    binaries,
    content,
  };
}

/** Empties the node (keeping the admin, who makes the import request) and its binary store. */
export async function wipe(node: TestNode): Promise<void> {
  const db = node.ctx.database.db;
  await db.deleteFrom('item_props').execute();
  await db.deleteFrom('items').execute();
  await db.deleteFrom('user_groups').execute();
  await db.deleteFrom('users').where('name', '<>', 'admin').execute();
  for (const t of ['security_groups', 'permission_targets', 'access_tokens', 'repositories', 'binaries'] as const) await db.deleteFrom(t).execute();
  await db.deleteFrom('system_config').where('config_key', 'not like', 'cluster.%').execute();
  // The files only: the provider keeps the shard folders it made.
  const store = join(node.ctx.layout.data, 'filestore');
  for (const d of readdirSync(store)) for (const f of readdirSync(join(store, d))) rmSync(join(store, d, f));
}
