import { describe, expect, it } from 'vitest';
import { defaultSystemProperties, SystemProperties } from './system-properties.js';

describe('artifactory.system.properties', () => {
  it('gives the seed defaults for a missing file: db sessions, 30 idle minutes', () => {
    const p = SystemProperties.parse('', 'x');
    expect(p.sessionProvider).toBe('db');
    expect(p.sessionTimeoutMs).toBe(30 * 60_000);
    expect(p.sessionCleanupCron).toBeUndefined();
    expect(p.get('arca.session.redis.url')).toBe('redis://127.0.0.1:6379');
  });

  it('writes a random minute of each hour into the default file, as the seed installer does', () => {
    const minutes = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const p = SystemProperties.parse(defaultSystemProperties(), 'default');
      const m = /^0 (\d+) \* \* \* \?$/.exec(p.sessionCleanupCron!);
      expect(m).not.toBeNull();
      minutes.add(Number(m![1]));
    }
    expect([...minutes].every((m) => m >= 0 && m < 60)).toBe(true);
    expect(minutes.size).toBeGreaterThan(1);
    expect(SystemProperties.parse(defaultSystemProperties(7), 'd').sessionCleanupCron).toBe('0 7 * * * ?');
  });

  it('reads the keys with full properties rules and refuses bad values naming the file', () => {
    const p = SystemProperties.parse('artifactory.map.provider.type : Distributed\nartifactory.ui.session.timeout.minutes=0.5\n', 'etc/f');
    expect(p.sessionProvider).toBe('distributed');
    expect(p.sessionTimeoutMs).toBe(30_000);
    expect(() => SystemProperties.parse('artifactory.map.provider.type=hazelcast', 'etc/f')).toThrow(/etc\/f: artifactory.map.provider.type must be db, distributed or jvm/);
    expect(() => SystemProperties.parse('artifactory.ui.session.timeout.minutes=-1', 'etc/f')).toThrow(/positive/);
  });

  it("reads the AQL hard limit for callers who are not administrators (the seed's default 1,000)", () => {
    expect(SystemProperties.parse('', 'x').userQueryLimit).toBe(1000);
    expect(SystemProperties.parse(defaultSystemProperties(), 'x').userQueryLimit).toBe(1000);
    expect(SystemProperties.parse('artifactory.search.userQueryLimit=25', 'x').userQueryLimit).toBe(25);
    expect(() => SystemProperties.parse('artifactory.search.userQueryLimit=0', 'etc/f')).toThrow(/etc\/f: artifactory.search.userQueryLimit must be a positive whole number/);
    expect(() => SystemProperties.parse('artifactory.search.userQueryLimit=lots', 'etc/f')).toThrow(/userQueryLimit/);
  });
});
