import { describe, expect, it } from 'vitest';
import { CronError, nextCronTime, parseCron } from './cron.js';
import { describeSchedule, everyMs, nextRunAfter, parseSchedule } from './schedule.js';

const at = (iso: string) => Date.parse(iso);
const next = (expr: string, from: string) => new Date(nextCronTime(parseCron(expr), at(from))).toISOString();

describe('cron expressions', () => {
  it('reads the seed’s Quartz form (seconds first, ? for no day)', () => {
    expect(next('0 0 /4 * * ?', '2026-03-01T01:30:00Z')).toBe('2026-03-01T04:00:00.000Z');
    expect(next('0 0 /4 * * ?', '2026-03-01T04:00:00Z')).toBe('2026-03-01T08:00:00.000Z');
    expect(next('0 0 2 * * ?', '2026-03-01T02:00:00.001Z')).toBe('2026-03-02T02:00:00.000Z');
    expect(next('0 0 2 ? * MON-FRI', '2026-03-06T03:00:00Z')).toBe('2026-03-09T02:00:00.000Z');
    expect(next('30 15 * * * ?', '2026-03-01T10:15:30Z')).toBe('2026-03-01T11:15:30.000Z');
    expect(next('0 0 0 1 JAN ? 2030', '2026-01-01T00:00:00Z')).toBe('2030-01-01T00:00:00.000Z');
    // Quartz counts days of the week from 1 = Sunday.
    expect(next('0 0 12 ? * 1', '2026-03-02T00:00:00Z')).toBe('2026-03-08T12:00:00.000Z');
  });

  it('reads the Unix form (five fields, 0 and 7 are Sunday)', () => {
    expect(next('*/15 * * * *', '2026-03-01T10:07:59Z')).toBe('2026-03-01T10:15:00.000Z');
    expect(next('17 * * * *', '2026-03-01T10:17:00Z')).toBe('2026-03-01T11:17:00.000Z');
    expect(next('0 3 * * 7', '2026-03-02T00:00:00Z')).toBe('2026-03-08T03:00:00.000Z');
    expect(next('0 0 1,15 * *', '2026-03-02T00:00:00Z')).toBe('2026-03-15T00:00:00.000Z');
    expect(next('0 9-17/4 * * *', '2026-03-02T14:00:00Z')).toBe('2026-03-02T17:00:00.000Z');
    expect(next('0 0 29 2 *', '2026-03-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    // Both day fields restricted: either matches.
    expect(next('0 0 13 * 5', '2026-03-01T00:00:00Z')).toBe('2026-03-06T00:00:00.000Z');
  });

  it('refuses what it cannot honour, naming the field', () => {
    for (const [expr, why] of [
      ['* * *', /expected 5/],
      ['0 0 L * ?', /L, W or #/],
      ['0 61 * * * ?', /minute '61'.*outside 0-59/],
      ['0 0 5-2 * * ?', /runs backwards/],
      ['0 0 */0 * * ?', /step '0'/],
      ['0 0 0 31 FEB ?', /matches no time/],
      ['0 0 0 ? * FUNDAY', /not a number or a name/],
    ] as const) {
      expect(() => parseCron(expr), expr).toThrow(CronError);
      expect(() => parseCron(expr), expr).toThrow(why);
    }
  });
});

describe('schedules', () => {
  it('aligns intervals to the epoch, so every node computes the same times', () => {
    const fourHours = everyMs(4 * 3_600_000);
    expect(new Date(nextRunAfter(fourHours, at('2026-03-01T05:59:00Z'))).toISOString()).toBe('2026-03-01T08:00:00.000Z');
    expect(new Date(nextRunAfter(fourHours, at('2026-03-01T08:00:00Z'))).toISOString()).toBe('2026-03-01T12:00:00.000Z');
  });

  it('round-trips through its stored text', () => {
    for (const text of ['every 14400s', 'cron 0 0 2 * * ?', 'cron 17 * * * *']) expect(describeSchedule(parseSchedule(text))).toBe(text);
    expect(() => everyMs(10)).toThrow(RangeError);
    expect(() => parseSchedule('sometimes')).toThrow(/Unknown schedule/);
  });
});
