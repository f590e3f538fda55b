import { passwordPolicy } from '../../security/password-policy.js';
import type { ConfigVersions } from '../../cluster/config-versions.js';
import type { SystemProperties } from '../../config/system-properties.js';
import type { Database } from '../../db/database.js';
import { SecurityService } from '../../security/security-service.js';
import { openSessionStore } from '../../security/session-setup.js';
import type { SessionService } from '../../security/sessions.js';
import type { SystemSettings } from '../../services/system-settings.js';
import type { Wired } from '../lifecycle.js';
import type { NodeConfig } from './config.js';

export interface SecurityDeps {
  database: Database;
  versions: ConfigVersions;
  settings: SystemSettings;
  masterKey: Buffer;
  /** `artifactory.map.provider.type` picks the UI session store. */
  systemProperties: SystemProperties;
}

/**
 * Authentication and authorisation, with the master key and the UI session store
 * (`artifactory.map.provider.type`: db, jvm or distributed) given at construction. At close
 * the session store lets go of its connection.
 */
export async function securityService(
  cfg: Pick<NodeConfig, 'system' | 'clock' | 'log' | 'identity' | 'tokenMaxExpiresInSecs'>,
  deps: SecurityDeps,
): Promise<Wired<{ security: SecurityService; sessions: SessionService }>> {
  const { database, systemProperties: props } = deps;
  const store = await openSessionStore(props, database, (err) => cfg.log.warn({ err: err.message }, 'session store (Redis) error'));
  const security = new SecurityService(database, deps.settings, deps.versions, cfg.clock, {
    maxFailures: cfg.system.number('arca.login.maxFailures'),
    masterKey: deps.masterKey,
    tokenMaxExpiresInSecs: cfg.tokenMaxExpiresInSecs,
    passwordPolicy: passwordPolicy(cfg.system.number('arca.password.minLength'), cfg.system.number('arca.password.minClasses')),
    sessions: { store, nodeId: cfg.identity.nodeId, idleMs: props.sessionTimeoutMs },
  });
  // Given a store, the service always has its session service.
  const sessions = security.sessions as SessionService;
  return { value: { security, sessions }, close: () => sessions.close() };
}
