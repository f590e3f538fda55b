import { existsSync, readFileSync, renameSync } from 'node:fs';
import type { Logger } from 'pino';
import { ArcaError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import type { ConfigVersions } from '../config-versions.js';
import { displayDate, expiryOf, splitLicenseKeys } from './license-key.js';
import type { InstallResult, LicensePool, LicenseRow } from './license-pool.js';
import type { LicenseSettings } from './license-settings.js';
import type { EnsureOutcome } from './pool-rules.js';

export const LICENSE_MANAGER_OFF =
  'The license manager is off: no license public key is configured (arca.license.publicKey in system.yaml, or etc/security/license-public.pem), so nodes need no license and HA works without one';

/** What this node knows about its own license (the last check). */
export interface LicenseStatus {
  enabled: boolean;
  keySource?: string;
  /** The license this node holds, if any. */
  hash?: string;
  licensedTo?: string;
  type?: string;
  validThrough?: string;
  expired?: boolean;
  outcome?: EnsureOutcome;
  /** When the pool was last checked (epoch ms). */
  checkedAt?: number;
  /** Why the last check failed (the previous state is kept). */
  error?: string;
}

const short = (hash: string) => hash.slice(0, 12);

/**
 * This node's side of the Cluster License Manager: takes a license at start, checks the pool
 * every `arca.license.checkIntervalSecs` and whenever the pool changes anywhere (the change
 * bumps the `system` configuration version), and gives the license back when the node stops.
 * Off (no public key): every call says so and nothing needs a license.
 */
export class LicenseManager {
  private state: LicenseStatus;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly poolOrOff: LicensePool | undefined,
    private readonly settings: LicenseSettings,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.state = { enabled: poolOrOff !== undefined, keySource: settings.keySource };
  }

  get enabled(): boolean {
    return this.poolOrOff !== undefined;
  }

  /** The pool; throws a clear CONFLICT error when the manager is off. */
  get pool(): LicensePool {
    if (!this.poolOrOff) throw new ArcaError('CONFLICT', LICENSE_MANAGER_OFF);
    return this.poolOrOff;
  }

  status(): LicenseStatus {
    const s = { ...this.state };
    if (s.hash && s.validThrough) s.expired = this.clock.now() >= (expiryOf(s.validThrough) ?? 0);
    return s;
  }

  /** Why this node is not fully licensed (ping answers 503 with it), or undefined. */
  problem(): string | undefined {
    if (!this.enabled || this.state.hash) return undefined;
    if (this.state.checkedAt === undefined) return 'Server state is offline: this node has not checked the cluster license pool yet';
    return `Server state is offline: node '${this.pool.options.nodeId}' needs a license and the cluster license pool has none free (add one with POST /api/system/licenses or on the Licenses page)`;
  }

  /** Checks the pool now (calls made meanwhile run once more after it). */
  check(): Promise<void> {
    if (!this.enabled || this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.checkOnce();
        } while (this.again && !this.stopped);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async checkOnce(): Promise<void> {
    const before = this.state;
    let row: LicenseRow | undefined;
    let outcome: EnsureOutcome;
    try {
      const r = await this.pool.ensure();
      row = r.license;
      outcome = r.outcome;
    } catch (err) {
      this.state = { ...before, error: (err as Error).message };
      this.log.warn({ err }, 'license check failed; keeping the previous license state');
      return;
    }
    this.state = {
      enabled: true,
      keySource: this.settings.keySource,
      hash: row?.license_hash,
      licensedTo: row?.licensed_to,
      type: row?.license_type,
      validThrough: row?.valid_through,
      outcome,
      checkedAt: this.clock.now(),
    };
    const what = row ? `${short(row.license_hash)} (${row.license_type}, licensed to ${row.licensed_to}, valid through ${displayDate(row.valid_through)})` : '';
    if (row && row.license_hash !== before.hash) {
      const how = outcome === 'swapped' ? 'switched to' : before.hash ? 'now holds' : 'took';
      this.log.info({ license: row.license_hash, previous: before.hash }, `This node ${how} license ${what} from the cluster pool`);
    } else if (!row && (before.hash || before.checkedAt === undefined || before.outcome !== 'none')) {
      this.log.warn(this.problem());
    }
    if (outcome === 'expiring' && before.outcome !== 'expiring') {
      this.log.warn({ license: row?.license_hash }, `License ${what} is about to expire (or has) and the pool has no free license that expires later`);
    }
  }

  /** Starts the periodic check and the check on every pool change. */
  start(versions: ConfigVersions): void {
    if (!this.enabled || this.timer) return;
    this.timer = setInterval(() => void this.check(), this.settings.checkMs);
    this.timer.unref();
    // Spread over a quarter second: every node hears of a change at the same moment.
    versions.on('system', () => setTimeout(() => void this.check(), Math.random() * 250).unref());
  }

  /** Stops checking (before the node releases its license). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Gives this node's license back to the pool. */
  async release(): Promise<void> {
    await this.stop();
    if (!this.enabled) return;
    const n = await this.pool.release();
    if (n > 0) this.log.info(`Returned license ${this.state.hash ? short(this.state.hash) : ''} to the cluster pool`);
    this.state = { ...this.state, hash: undefined, licensedTo: undefined, type: undefined, validThrough: undefined };
  }

  /**
   * Imports `etc/artifactory.cluster.license` (keys separated by newlines, spaces or
   * semicolons) into the pool, then renames it `.imported` so a license deleted later is not
   * imported again at the next start.
   */
  async importBootstrap(file: string): Promise<InstallResult[]> {
    if (!existsSync(file)) return [];
    if (!this.enabled) {
      this.log.warn(`${file} is ignored: ${LICENSE_MANAGER_OFF}`);
      return [];
    }
    const keys = splitLicenseKeys(readFileSync(file, 'utf8'));
    const results = await this.pool.install(keys, 'bootstrap');
    const ok = results.filter((r) => r.ok).length;
    for (const r of results) if (!r.ok) this.log.warn(`${file}: key ${r.key.slice(0, 24)}… refused: ${r.message}`);
    try {
      renameSync(file, `${file}.imported`);
      this.log.info(`Imported ${ok} of ${results.length} licenses from ${file} into the cluster pool (file renamed to ${file}.imported)`);
    } catch (err) {
      this.log.warn(`Imported ${ok} of ${results.length} licenses from ${file}, but could not rename it (${(err as Error).message}): it is imported again at the next start`);
    }
    return results;
  }
}
