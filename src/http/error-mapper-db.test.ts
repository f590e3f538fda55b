import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { mapError, NO_CONNECTION_MESSAGE, TOO_LARGE_TO_INDEX_MESSAGE } from './error-mapper.js';

/**
 * The errors a real database server gives when it has no connection left for a client map to a
 * 503 with Retry-After, not a 500: a role (a user) whose connection limit is reached.
 */
describe('a database with no free connection', () => {
  it('PostgreSQL (53300, a role at its connection limit): 503 UNAVAILABLE with Retry-After', async () => {
    const adminUrl = inject('pgUrl');
    const role = `arca_nolimit_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`create role ${role} login password 'Pw-${role}' connection limit 0`);
      const url = new URL(adminUrl);
      url.username = role;
      url.password = `Pw-${role}`;
      const client = new pg.Client({ connectionString: url.toString() });
      const err = await client.connect().then(
        () => undefined,
        (e: unknown) => e,
      );
      await client.end().catch(() => undefined);
      expect((err as { code?: string }).code).toBe('53300');
      const mapped = mapError(err);
      expect(mapped).toMatchObject({ status: 503, code: 'UNAVAILABLE', message: NO_CONNECTION_MESSAGE, internal: true });
      expect(mapped.headers['Retry-After']).toBe('1');
    } finally {
      await admin.query(`drop role if exists ${role}`);
      await admin.end();
    }
  });

  it.skipIf(!inject('mysqlUrl'))('MySQL/MariaDB (a user at MAX_USER_CONNECTIONS): 503 UNAVAILABLE with Retry-After', async () => {
    const mysql = await import('mysql2/promise');
    const adminUrl = inject('mysqlUrl').replace(/^jdbc:/, '').replace(/^mariadb:/, 'mysql:');
    const user = `arca_lim_${randomBytes(4).toString('hex')}`;
    const admin = await mysql.createConnection(adminUrl);
    try {
      await admin.query(`create user '${user}'@'%' identified by 'Pw-${user}' with max_user_connections 1`);
      await admin.query(`create user '${user}'@'localhost' identified by 'Pw-${user}' with max_user_connections 1`);
      const url = new URL(adminUrl);
      url.username = user;
      url.password = `Pw-${user}`;
      url.pathname = '/';
      const first = await mysql.createConnection(url.toString());
      const err = await mysql.createConnection(url.toString()).then(
        async (c) => {
          await c.end();
          return undefined;
        },
        (e: unknown) => e,
      );
      await first.end();
      expect([1203, 1226]).toContain((err as { errno?: number }).errno);
      const mapped = mapError(err);
      expect(mapped).toMatchObject({ status: 503, code: 'UNAVAILABLE', message: NO_CONNECTION_MESSAGE });
      expect(mapped.headers['Retry-After']).toBe('1');
    } finally {
      await admin.query(`drop user if exists '${user}'@'%'`);
      await admin.query(`drop user if exists '${user}'@'localhost'`);
      await admin.end();
    }
  });
});

describe('a value too large for an index entry on PostgreSQL', () => {
  it('is a 400 naming the cause, not a 500', async () => {
    const client = new pg.Client({ connectionString: inject('pgUrl') });
    await client.connect();
    try {
      await client.query('create temporary table t (v varchar(4000))');
      await client.query('create index t_v on t (v)');
      // Random letters do not compress: the entry is larger than a B-tree page allows.
      const v = Array.from(randomBytes(3000), (b) => String.fromCharCode(97 + (b % 26))).join('');
      const err = await client.query('insert into t (v) values ($1)', [v]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as { code?: string }).code).toBe('54000');
      expect(mapError(err)).toMatchObject({ status: 400, code: 'BAD_REQUEST', message: TOO_LARGE_TO_INDEX_MESSAGE, internal: false });
    } finally {
      await client.end();
    }
  });
});
