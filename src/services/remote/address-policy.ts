import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../../core/errors.js';

/**
 * Where remote repositories may connect: a deny list of networks and host names (by default
 * link-local and cloud-metadata addresses), with an allow list of exceptions. A remote's URL
 * is checked when the repository is saved (its host name, or its IP literal), and every
 * connection is checked again after DNS resolution and on every redirect hop (see
 * upstream-client.ts), so a name that resolves to a metadata address is refused as well.
 *
 * Entries (system.yaml `arca.remote.deniedAddresses` / `arca.remote.allowedAddresses`,
 * separated by commas or white space): an IPv4 or IPv6 address, a CIDR network
 * (`169.254.0.0/16`, `fe80::/10`), a host name (`metadata.google.internal`, matched exactly,
 * case-insensitively, with or without a trailing dot) or a domain wildcard (`*.internal`,
 * which matches names below it). Loopback and private networks are not on the default list:
 * remotes on the same host or network are common (and the tests use 127.0.0.1 upstreams).
 */

export const DEFAULT_DENIED_ADDRESSES: readonly string[] = [
  // IPv4 link-local: AWS, GCP, Azure, OCI, DigitalOcean… metadata at 169.254.169.254, ECS at 169.254.170.2.
  '169.254.0.0/16',
  // IPv6 link-local, and the IPv6 address of the AWS instance metadata service.
  'fe80::/10',
  'fd00:ec2::254',
  // Alibaba Cloud's metadata service.
  '100.100.100.200',
  'metadata.google.internal',
  'metadata.azure.internal',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
];

interface Rules {
  /** Networks (and single addresses, as /32 and /128). */
  networks: BlockList;
  /** Exact host names, lower case, without a trailing dot. */
  names: Set<string>;
  /** Domain wildcards as suffixes: `*.internal` → `.internal`. */
  suffixes: string[];
  /** Whether anything at all is listed (an empty allow list skips its checks). */
  empty: boolean;
}

const NAT64 = new BlockList();
NAT64.addSubnet('64:ff9b::', 96, 'ipv6');

function normalName(host: string): string {
  return host.toLowerCase().replace(/\.+$/, '');
}

/** `[::1]` (a URL's hostname) → `::1`. */
export function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** A list as system.yaml holds it: a YAML sequence, or one string of entries separated by commas or white space. */
export function entriesOf(list: string | readonly string[]): string[] {
  return (typeof list === 'string' ? [list] : list).flatMap((e) => e.split(/[\s,]+/)).filter((e) => e !== '');
}

function compile(list: readonly string[], key: string): Rules {
  const rules: Rules = { networks: new BlockList(), names: new Set(), suffixes: [], empty: true };
  for (const raw of list) {
    const entry = raw.trim();
    if (entry === '') continue;
    rules.empty = false;
    const slash = entry.indexOf('/');
    const address = bareHost(slash < 0 ? entry : entry.slice(0, slash));
    const family = isIP(address);
    if (family !== 0) {
      const type = family === 4 ? 'ipv4' : 'ipv6';
      const max = family === 4 ? 32 : 128;
      const prefix = slash < 0 ? max : Number(entry.slice(slash + 1));
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (slash >= 0 && !/^\d+$/.test(entry.slice(slash + 1)))) {
        throw new ConfigError(`${key}: '${entry}' has an invalid prefix length (0 to ${max})`);
      }
      rules.networks.addSubnet(address, prefix, type);
      continue;
    }
    if (slash >= 0) throw new ConfigError(`${key}: '${entry}' is not an IPv4 or IPv6 network`);
    const name = normalName(entry);
    if (name.startsWith('*.') && /^[a-z0-9.-]+$/.test(name.slice(2))) rules.suffixes.push(name.slice(1));
    else if (/^[a-z0-9_.-]+$/.test(name)) rules.names.add(name);
    else throw new ConfigError(`${key}: '${entry}' is neither an address, a network, a host name nor a *.domain wildcard`);
  }
  return rules;
}

function matchesAddress(rules: Rules, address: string): boolean {
  const family = isIP(address);
  if (family === 0 || rules.empty) return false;
  if (rules.networks.check(address, family === 4 ? 'ipv4' : 'ipv6')) return true;
  // An IPv4 address inside an IPv6 one (NAT64 64:ff9b::/96): check the IPv4 part too.
  // (IPv4-mapped ::ffff:a.b.c.d is matched by BlockList itself.)
  if (family === 6 && NAT64.check(address, 'ipv6')) {
    const v4 = embeddedIpv4(address);
    if (v4 && rules.networks.check(v4, 'ipv4')) return true;
  }
  return false;
}

/** The IPv4 address in the last 32 bits of an IPv6 address. */
function embeddedIpv4(address: string): string | undefined {
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted) return dotted[1];
  const groups = address.split(':');
  const lo = groups.pop();
  const hi = groups.pop();
  if (lo === undefined || hi === undefined) return undefined;
  const h = parseInt(hi || '0', 16);
  const l = parseInt(lo || '0', 16);
  if (Number.isNaN(h) || Number.isNaN(l)) return undefined;
  return `${h >> 8}.${h & 255}.${l >> 8}.${l & 255}`;
}

function matchesName(rules: Rules, host: string): boolean {
  const name = normalName(host);
  return rules.names.has(name) || rules.suffixes.some((s) => name.endsWith(s));
}

export class AddressPolicy {
  private readonly denied: Rules;
  private readonly allowed: Rules;

  /** `denied` and `allowed` as the system.yaml keys hold them; throws ConfigError naming a bad entry. */
  constructor(denied: string | readonly string[] = DEFAULT_DENIED_ADDRESSES, allowed: string | readonly string[] = []) {
    this.denied = compile(entriesOf(denied), 'arca.remote.deniedAddresses');
    this.allowed = compile(entriesOf(allowed), 'arca.remote.allowedAddresses');
  }

  /** Why a resolved (or literal) IP address may not be connected to; undefined when it may. */
  deniedAddress(address: string): string | undefined {
    if (matchesAddress(this.allowed, address)) return undefined;
    if (matchesAddress(this.denied, address)) return `the address ${address} is on the deny list (arca.remote.deniedAddresses)`;
    return undefined;
  }

  /**
   * Why a URL's host (a name or an IP literal, as `new URL().hostname` gives it) may not be
   * used; undefined when it may. A name is checked again once it resolves (deniedAddress).
   */
  deniedHost(hostname: string): string | undefined {
    const host = bareHost(hostname);
    if (isIP(host) !== 0) return this.deniedAddress(host);
    if (matchesName(this.allowed, host)) return undefined;
    if (matchesName(this.denied, host)) return `the host name ${normalName(host)} is on the deny list (arca.remote.deniedAddresses)`;
    return undefined;
  }

  /** The allow list names this host (so its resolved addresses are not checked either). */
  allowsName(hostname: string): boolean {
    const host = bareHost(hostname);
    return isIP(host) === 0 && matchesName(this.allowed, host);
  }
}

/** The policy system.yaml configures (arca.remote.deniedAddresses, arca.remote.allowedAddresses). */
export function remoteAddressPolicy(system: { list(path: string): string[] | undefined }): AddressPolicy {
  return new AddressPolicy(system.list('arca.remote.deniedAddresses') ?? DEFAULT_DENIED_ADDRESSES, system.list('arca.remote.allowedAddresses') ?? []);
}

/** The policy of the built-in defaults (used where no configuration is given). */
export const DEFAULT_ADDRESS_POLICY = new AddressPolicy();
