import type { Client, Notification } from 'pg';
import type { PgConnection } from '../config/db-config.js';

/** The PostgreSQL channel a configuration change is announced on (payload: the domain). */
export const CONFIG_CHANNEL = 'arca_config_changed';

/** Reported to the owner so it can log the listener's life without this module logging. */
export type ListenerEvent = { type: 'connected'; reconnect: boolean } | { type: 'lost'; error?: Error; retryMs: number };

export interface ChangeListenerOptions {
  /** Called with the payload of each notification (the changed domain). */
  onNotify(domain: string): void;
  /** Called after every (re)connection: changes made while disconnected were not announced. */
  onConnected(): void;
  onEvent?(event: ListenerEvent): void;
  /** First reconnect delay; doubled per failed attempt up to `maxRetryMs`. */
  minRetryMs?: number;
  maxRetryMs?: number;
}

/**
 * The fast path of configuration propagation on PostgreSQL: one dedicated connection, outside
 * the pool, that LISTENs on {@link CONFIG_CHANNEL}. A change's transaction sends NOTIFY, which
 * PostgreSQL delivers on commit, so every process learns of it within milliseconds.
 *
 * The connection is kept forever: when it drops (the server restarts, a network cut, an
 * administrator terminates the backend) it is re-opened with a growing delay (250 ms doubling
 * to 5 s), and `onConnected` lets the owner catch up on what it missed meanwhile. The polled
 * version table stays the fallback throughout.
 */
export class PgChangeListener {
  private client: Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;
  private everConnected = false;

  constructor(
    private readonly connection: PgConnection,
    private readonly options: ChangeListenerOptions,
  ) {}

  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Connects once; a failure is not thrown but retried in the background. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const c = this.client;
    this.client = undefined;
    if (c) await c.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    // Loaded only when a node runs on PostgreSQL, as the pool's driver is.
    const { default: pg } = await import('pg');
    const client = new pg.Client({
      ...this.connection,
      application_name: 'arca-config-listener',
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: 10_000,
    });
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      this.lost(client, error);
    };
    client.on('error', (err) => onLost(err));
    client.on('end', () => onLost());
    client.on('notification', (n: Notification) => {
      if (n.channel === CONFIG_CHANNEL && n.payload) this.options.onNotify(n.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CONFIG_CHANNEL}`);
    } catch (err) {
      onLost(err as Error);
      return;
    }
    if (this.stopped || lost) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.attempt = 0;
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.options.onEvent?.({ type: 'connected', reconnect });
    this.options.onConnected();
  }

  private lost(client: Client, error?: Error): void {
    if (this.client === client) this.client = undefined;
    client.end().catch(() => undefined);
    if (this.stopped) return;
    const min = this.options.minRetryMs ?? 250;
    const max = this.options.maxRetryMs ?? 5000;
    const retryMs = Math.min(max, min * 2 ** this.attempt);
    this.attempt++;
    this.options.onEvent?.({ type: 'lost', error, retryMs });
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect().catch(() => undefined);
    }, retryMs);
    this.timer.unref();
  }
}
