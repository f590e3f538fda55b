import type { ConfigVersions } from '../cluster/config-versions.js';
import type { Clock } from '../core/clock.js';
import type { Database } from '../db/database.js';
import { orUpdate } from '../db/dialect.js';

/** Cluster-wide settings kept in the database (the seed's config descriptor, in part). */
export interface Settings {
  /** `security.anonAccessEnabled`: off by default. */
  anonAccessEnabled: boolean;
  /** `security.hideUnauthorizedResources`: answer 404 instead of 403. */
  hideUnauthorizedResources: boolean;
  /** The custom URL base (the load balancer's URL), '' to derive it from each request. */
  urlBase: string;
  /** `trashcanConfig.enabled`: deletes in local repositories move items to `auto-trashcan`. */
  trashcanEnabled: boolean;
  /** `trashcanConfig.retentionPeriodDays`: days an item stays in the trash can before the prune task deletes it. */
  trashcanRetentionPeriodDays: number;
  /** `trashcanConfig.allowPermDeletes`: kept and shown; the seed uses it only in its UI. */
  trashcanAllowPermDeletes: boolean;
}

export const DEFAULT_SETTINGS: Settings = {
  anonAccessEnabled: false,
  hideUnauthorizedResources: false,
  urlBase: '',
  trashcanEnabled: true,
  trashcanRetentionPeriodDays: 14,
  trashcanAllowPermDeletes: false,
};

export class SystemSettings {
  private cache: Settings | undefined;

  constructor(
    private readonly database: Database,
    private readonly versions: ConfigVersions,
    private readonly clock: Clock,
  ) {
    versions.on('system', () => {
      this.cache = undefined;
    });
  }

  /** The settings when they are cached (dropped on every 'system' change); else undefined. */
  peek(): Settings | undefined {
    return this.cache;
  }

  async get(): Promise<Settings> {
    if (this.cache) return this.cache;
    const rows = await this.database.db.selectFrom('system_config').select(['config_key', 'config_value']).execute();
    const out: Settings = { ...DEFAULT_SETTINGS };
    for (const r of rows) {
      if (r.config_key in out) (out as unknown as Record<string, unknown>)[r.config_key] = JSON.parse(r.config_value);
    }
    this.cache = out;
    return out;
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    const now = this.clock.now();
    await this.versions.change('system', async (trx) => {
      for (const [k, v] of Object.entries(patch)) {
        if (!(k in DEFAULT_SETTINGS) || v === undefined) continue;
        await orUpdate(
          trx,
          trx.insertInto('system_config').values({ config_key: k, config_value: JSON.stringify(v), modified: now }),
          'config_key',
          { config_value: JSON.stringify(v), modified: now },
        )
          .execute();
      }
    });
    this.cache = undefined;
    return this.get();
  }
}
