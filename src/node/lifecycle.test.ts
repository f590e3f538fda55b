import { describe, expect, it } from 'vitest';
import { Lifecycle } from './lifecycle.js';

function recorder() {
  const warnings: { obj: unknown; msg?: string }[] = [];
  return { warnings, log: { warn: (obj: unknown, msg?: string) => void warnings.push({ obj, msg }) } };
}

describe('Lifecycle', () => {
  it('runs the closes newest first', async () => {
    const { log } = recorder();
    const life = new Lifecycle(log);
    const order: string[] = [];
    life.push('database', () => void order.push('database'));
    life.push('locks', async () => {
      await new Promise((r) => setTimeout(r, 5));
      order.push('locks');
    });
    life.push('scheduler', () => void order.push('scheduler'));
    await life.close();
    expect(order).toEqual(['scheduler', 'locks', 'database']);
  });

  it('waits for each close before the next one starts', async () => {
    const life = new Lifecycle(recorder().log);
    const events: string[] = [];
    life.push('first', () => void events.push('first'));
    life.push('slow', async () => {
      events.push('slow started');
      await new Promise((r) => setTimeout(r, 10));
      events.push('slow done');
    });
    await life.close();
    expect(events).toEqual(['slow started', 'slow done', 'first']);
  });

  it('runs each close once, however often close() is called', async () => {
    const life = new Lifecycle(recorder().log);
    let runs = 0;
    life.push('pool', async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 5));
    });
    const first = life.close();
    const second = life.close();
    expect(second).toBe(first);
    await Promise.all([first, second]);
    await life.close();
    expect(runs).toBe(1);
  });

  it('keeps going past a failing close and logs the failure with the step name', async () => {
    const { log, warnings } = recorder();
    const life = new Lifecycle(log);
    const order: string[] = [];
    life.push('database', () => void order.push('database'));
    life.push('binary store', () => {
      throw new Error('disk gone');
    });
    life.push('sessions', async () => Promise.reject(new Error('redis gone')));
    life.push('scheduler', () => void order.push('scheduler'));
    await expect(life.close()).resolves.toBeUndefined();
    expect(order).toEqual(['scheduler', 'database']);
    expect(warnings.map((w) => w.msg)).toEqual(['closing sessions failed', 'closing binary store failed']);
    expect(warnings[0].obj).toMatchObject({ step: 'sessions', err: { message: 'redis gone' } });
    expect(warnings[1].obj).toMatchObject({ step: 'binary store', err: { message: 'disk gone' } });
  });

  it('hands back the value of a wiring step and registers its close', async () => {
    const life = new Lifecycle(recorder().log);
    let closed = false;
    const pool = life.own('pool', { value: { size: 3 }, close: () => void (closed = true) });
    expect(pool).toEqual({ size: 3 });
    expect(closed).toBe(false);
    await life.close();
    expect(closed).toBe(true);
  });

  it('refuses a close pushed once closing has begun (it would never run)', async () => {
    const life = new Lifecycle(recorder().log);
    const closing = life.close();
    expect(() => life.push('late', () => undefined)).toThrow("'late' cannot be added");
    await closing;
  });
});
