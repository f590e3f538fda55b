import { describe, expect, it } from 'vitest';
import { KeyedSerializer } from './keyed-serializer.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KeyedSerializer', () => {
  it('runs the tasks of one key one at a time, in order, through failures', async () => {
    const s = new KeyedSerializer();
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const task = (i: number) => async () => {
      running++;
      most = Math.max(most, running);
      await tick(2);
      order.push(i);
      running--;
      if (i % 3 === 0) throw new Error(`task ${i}`);
      return i;
    };
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => s.run('alice', task(i))));
    expect(most).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(4);
    await tick(0);
    expect(s.size).toBe(0);
  });

  it('runs different keys side by side', async () => {
    const s = new KeyedSerializer();
    let running = 0;
    let most = 0;
    const task = async () => {
      running++;
      most = Math.max(most, running);
      await tick(5);
      running--;
    };
    await Promise.all([s.run('a', task), s.run('b', task), s.run('c', task)]);
    expect(most).toBe(3);
  });
});
