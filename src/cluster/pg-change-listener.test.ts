import { describe, expect, it } from 'vitest';
import { PgChangeListener, type ListenerEvent } from './pg-change-listener.js';

describe('PgChangeListener without a reachable server', () => {
  it('does not fail the start, and retries in the background with a growing delay until stopped', async () => {
    const events: ListenerEvent[] = [];
    let connected = 0;
    const listener = new PgChangeListener(
      { host: '127.0.0.1', port: 1, user: 'nobody', database: 'none' },
      { onNotify: () => undefined, onConnected: () => connected++, onEvent: (e) => events.push(e), minRetryMs: 20, maxRetryMs: 80 },
    );
    await listener.start();
    expect(listener.connected).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    await listener.stop();
    const delays = events.filter((e) => e.type === 'lost').map((e) => (e as { retryMs: number }).retryMs);
    expect(delays.slice(0, 4)).toEqual([20, 40, 80, 80]);
    expect(connected).toBe(0);
    const after = events.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(events.length).toBe(after);
  });
});
