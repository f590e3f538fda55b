import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { AddressPolicy, DEFAULT_DENIED_ADDRESSES, remoteAddressPolicy } from './address-policy.js';

describe('AddressPolicy', () => {
  const policy = new AddressPolicy();

  it('denies link-local and cloud-metadata addresses and names by default', () => {
    for (const host of ['169.254.169.254', '169.254.0.1', '[fe80::1]', 'fe80::abcd', '[fd00:ec2::254]', '100.100.100.200', '::ffff:169.254.169.254', '[::ffff:a9fe:a9fe]', '64:ff9b::a9fe:a9fe']) {
      expect(policy.deniedHost(host), host).toMatch(/deny list/);
    }
    for (const host of ['metadata.google.internal', 'METADATA.Google.Internal.', 'metadata.azure.internal', 'metadata', 'instance-data']) {
      expect(policy.deniedHost(host), host).toMatch(/host name .* deny list/);
    }
  });

  it('allows loopback, private networks and ordinary names by default', () => {
    for (const host of ['127.0.0.1', 'localhost', '[::1]', '10.0.0.5', '192.168.1.10', 'registry.npmjs.org', 'fd00:ec2::253', '169.255.0.1', 'google.internal']) {
      expect(policy.deniedHost(host), host).toBeUndefined();
    }
  });

  it('takes networks, single addresses, names and *.domain wildcards; the allow list wins', () => {
    const p = new AddressPolicy(['10.0.0.0/8', '::1', '*.corp.internal', 'build-cache'], '10.1.2.3, cache.corp.internal');
    expect(p.deniedAddress('10.9.9.9')).toMatch(/10\.9\.9\.9/);
    expect(p.deniedAddress('10.1.2.3')).toBeUndefined();
    expect(p.deniedAddress('::1')).toMatch(/deny list/);
    expect(p.deniedHost('[::1]')).toMatch(/deny list/);
    expect(p.deniedHost('a.b.corp.internal')).toMatch(/host name/);
    expect(p.deniedHost('corp.internal')).toBeUndefined();
    expect(p.deniedHost('cache.corp.internal')).toBeUndefined();
    expect(p.allowsName('cache.corp.internal')).toBe(true);
    expect(p.deniedHost('Build-Cache.')).toMatch(/host name/);
    // The built-in list no longer applies once the key is set.
    expect(p.deniedHost('169.254.169.254')).toBeUndefined();
  });

  it('denies nothing with an empty list', () => {
    const p = new AddressPolicy([]);
    expect(p.deniedHost('169.254.169.254')).toBeUndefined();
    expect(p.deniedHost('metadata.google.internal')).toBeUndefined();
  });

  it('refuses entries it cannot read, naming the key', () => {
    expect(() => new AddressPolicy(['169.254.0.0/33'])).toThrow(ConfigError);
    expect(() => new AddressPolicy(['169.254.0.0/x'])).toThrow(/arca\.remote\.deniedAddresses/);
    expect(() => new AddressPolicy([], ['not a host!'])).toThrow(/arca\.remote\.allowedAddresses/);
    expect(() => new AddressPolicy(['example.com/24'])).toThrow(/not an IPv4 or IPv6 network/);
  });

  it('reads system.yaml: the built-in list when unset, else the given lists', () => {
    const unset = remoteAddressPolicy({ list: () => undefined });
    expect(unset.deniedHost('169.254.169.254')).toBeDefined();
    const set = remoteAddressPolicy({ list: (path) => (path === 'arca.remote.deniedAddresses' ? [...DEFAULT_DENIED_ADDRESSES, '127.0.0.0/8'] : ['127.0.0.2']) });
    expect(set.deniedHost('127.0.0.1')).toBeDefined();
    expect(set.deniedHost('127.0.0.2')).toBeUndefined();
  });
});
