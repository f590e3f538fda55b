import { nextCronTime, parseCron, type Cron } from './cron.js';

/** When a task runs by itself: every `everyMs` (aligned to the epoch, so in UTC) or by a cron expression. */
export type Schedule = { kind: 'interval'; everyMs: number } | { kind: 'cron'; cron: Cron };

export function everyMs(ms: number): Schedule {
  if (!Number.isInteger(ms) || ms < 1000) throw new RangeError(`A task interval is a whole number of milliseconds, at least 1000; got ${ms}`);
  return { kind: 'interval', everyMs: ms };
}

export function cron(expression: string): Schedule {
  return { kind: 'cron', cron: parseCron(expression) };
}

/**
 * The first scheduled time strictly after `now`. Intervals are aligned to multiples of the
 * interval since the epoch, so every 4 h means 00:00, 04:00, … UTC on every node, like the
 * seed's `0 0 /4 * * ?`.
 */
export function nextRunAfter(schedule: Schedule, now: number): number {
  if (schedule.kind === 'interval') return (Math.floor(now / schedule.everyMs) + 1) * schedule.everyMs;
  return nextCronTime(schedule.cron, now);
}

/** The text kept in `task_schedules.schedule`, and read back by `parseSchedule`. */
export function describeSchedule(schedule: Schedule): string {
  return schedule.kind === 'interval' ? `every ${schedule.everyMs / 1000}s` : `cron ${schedule.cron.source}`;
}

export function parseSchedule(text: string): Schedule {
  const every = /^every (\d+(?:\.\d+)?)s$/.exec(text);
  if (every) return everyMs(Math.round(Number(every[1]) * 1000));
  if (text.startsWith('cron ')) return cron(text.slice(5));
  throw new RangeError(`Unknown schedule '${text}'`);
}
